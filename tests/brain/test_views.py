"""The brains' pages: each persona lands on its own level; nobody reaches a node outside it."""

import pytest

from tests.conftest import login


@pytest.mark.parametrize(
    "who, lands_on",
    [
        ("leader", "district"),
        ("street_staff", "street"),
        ("community_staff", "community"),
        ("worker_a", "grid"),
    ],
)
def test_home_opens_the_actors_level(client, tree, request, who, lands_on):
    login(client, request.getfixturevalue(who))
    r = client.get("/brain/")
    assert r.status_code == 302 and f"/brain/{lands_on}/" in r["Location"]
    page = client.get(r["Location"])
    assert page.status_code == 200
    assert b'id="brain-map"' in page.content and b"echarts.min.js" in page.content


def test_pages_hold_the_scope(client, tree, worker_a, outsider, leader):
    login(client, worker_a)
    assert client.get(f"/brain/grid/{tree.grid_b1.id}/").status_code == 404
    assert client.get(f"/brain/street/{tree.street_a.id}/").status_code == 403
    assert client.get("/brain/screen/?level=district").status_code == 403
    assert client.get("/brain/screen/?level=planet").status_code == 400
    assert client.get("/brain/screen/?level=grid&node=x").status_code == 400
    assert client.get("/brain/planet/1/").status_code == 403
    login(client, outsider)
    assert client.get("/brain/").status_code == 403
    client.logout()
    assert client.get("/brain/").status_code == 302  # to the login page
    login(client, leader)
    r = client.get("/brain/screen/")
    assert r.status_code == 200 and b"brain-screen" in r.content
    assert client.get("/brain/stars/").status_code == 200


def _rubric_form(**overrides):
    data = {"name": "2027 细则"}
    data.update({"completion_rate-on": "1", "completion_rate-weight": "2"})
    data.update({f"completion_rate-t{k}": v for k, v in enumerate(["0.5", "0.7", "0.8", "0.9"])})
    data.update({"overdue_rate-on": "1", "overdue_rate-weight": "1"})
    data.update({f"overdue_rate-t{k}": v for k, v in enumerate(["0.3", "0.2", "0.1", "0.05"])})
    data.update(overrides)
    return data


def test_district_staff_edit_the_star_rubric_on_a_page(client, tree, leader):
    from yiwang.brain.models import Rubric

    login(client, leader)
    page = client.get("/brain/rubric/")
    assert page.status_code == 200 and "满意率" in page.content.decode()
    r = client.post("/brain/rubric/", _rubric_form())
    assert r.status_code == 200 and b'data-testid="rubric-saved"' in r.content
    rubric = Rubric.objects.get(is_active=True)
    assert rubric.name == "2027 细则"
    items = {it.indicator: (it.weight, it.thresholds) for it in rubric.items.all()}
    assert items == {
        "completion_rate": (2.0, [0.5, 0.7, 0.8, 0.9]),
        "overdue_rate": (1.0, [0.3, 0.2, 0.1, 0.05]),
    }


@pytest.mark.parametrize(
    "overrides, names",
    [
        ({"overdue_rate-weight": "abc"}, "超期率 · 权重"),
        ({"completion_rate-t2": "0.6"}, "办结率 · 阈值"),
        ({"completion_rate-t3": ""}, "办结率 · 阈值"),
        ({"name": " "}, "名称"),
    ],
)
def test_bad_rubric_input_names_the_field_and_saves_nothing(client, tree, leader, overrides, names):
    from yiwang.brain.models import Rubric

    login(client, leader)
    before = Rubric.objects.count()
    r = client.post("/brain/rubric/", _rubric_form(**overrides))
    assert r.status_code == 400
    assert names in r.content.decode()
    assert Rubric.objects.count() == before
    assert 'value="abc"' in r.content.decode() or "abc" not in str(overrides)  # kept as typed


def test_only_district_staff_edit_the_rubric(client, tree, street_staff, outsider):
    from yiwang.brain.models import Rubric

    for who in (street_staff, outsider):
        login(client, who)
        assert client.get("/brain/rubric/").status_code == 403
        assert client.post("/brain/rubric/", _rubric_form()).status_code == 403
    assert not Rubric.objects.exists()
