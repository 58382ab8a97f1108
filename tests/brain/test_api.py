"""The data end: every figure through the API, scoped; bad input gets a clear error."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import login
from yiwang.brain.rollup import day_bounds, rollup_tick
from yiwang.cases.rates import Where, all_rates

URL = "/api/v1/brain/"


@pytest.fixture
def figures(tree, report):
    for i in (0, 0, 1, 2, 3):
        report(i=i)
    rollup_tick()


def get(client, path, **params):
    return client.get(URL + path, params)


def test_dashboard_figures_equal_the_desk_rates(client, figures, tree, leader):
    login(client, leader)
    r = get(client, "dashboard", level="street", node=tree.street_a.id)
    assert r.status_code == 200, r.content
    body = r.json()
    today = timezone.localdate()
    start, end = day_bounds(today - timedelta(days=29), today)
    want = all_rates(Where(street_id=tree.street_a.id), start, end)
    for name, value in want.items():
        assert body["summary"][name] == value
    assert body["summary"]["reported"] == 3
    assert {c["name"] for c in body["children"]} == {tree.community_a.name}
    assert set(body["grids"]) == {str(tree.grid_a1.id), str(tree.grid_a2.id)}
    assert body["trend"][-1]["reported"] == 3 and len(body["trend"]) == 30


@pytest.mark.parametrize(
    "who, level, node, status",
    [
        ("leader", "district", None, 200),
        ("leader", "grid", "b1", 200),
        ("street_staff", "street", "street_a", 200),
        ("street_staff", "community", "community_a", 200),
        ("street_staff", "street", "street_b", 404),
        ("street_staff", "district", None, 403),
        ("worker_a", "grid", "a1", 200),
        ("worker_a", "grid", "b1", 404),
        ("worker_a", "community", "community_a", 403),
        ("community_staff", "community", "community_b", 200),
        ("community_staff", "street", "street_b", 403),
        ("outsider", "grid", "a1", 403),
    ],
)
def test_scope_matrix(client, figures, tree, request, who, level, node, status):
    ids = {
        "street_a": tree.street_a.id,
        "street_b": tree.street_b.id,
        "community_a": tree.community_a.id,
        "community_b": tree.community_b.id,
        "a1": tree.grid_a1.id,
        "b1": tree.grid_b1.id,
    }
    login(client, request.getfixturevalue(who))
    params = {"level": level} | ({"node": ids[node]} if node else {})
    for path in ("dashboard", "live", "places", "departments", "figures", "stars"):
        r = get(client, path, **params)
        assert r.status_code == status, (path, r.content)
        if status != 200:
            assert r.json()["code"] in ("forbidden", "not_found")


def test_bad_input_is_a_clear_error(client, figures, tree, leader):
    login(client, leader)
    today = timezone.localdate()
    r = get(client, "dashboard", start=today, end=today - timedelta(days=1))
    assert r.status_code == 400 and r.json()["field"] == "end"
    r = get(client, "dashboard", start=today - timedelta(days=6 * 365), end=today)
    assert r.status_code == 400 and r.json()["field"] == "start"
    r = get(client, "dashboard", level="planet")
    assert r.status_code == 400 and r.json()["field"] == "level"
    assert get(client, "dashboard", level="grid", node=999999).status_code == 404
    assert get(client, "dashboard", level="street").status_code == 400
    assert get(client, "dashboard", start="2026-02-30").status_code == 400
    client.logout()
    assert get(client, "dashboard").status_code == 401


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_exports(client, figures, tree, leader, fmt):
    login(client, leader)
    for path, extra in [("figures", {"by": "grid"}), ("figures", {"by": "trend"}),
                        ("departments", {}), ("places", {}), ("stars", {})]:  # fmt: skip
        r = get(client, path, format=fmt, **extra)
        assert r.status_code == 200, (path, r.content[:200])
        assert r["Content-Disposition"].startswith("attachment")
    r = get(client, "figures", format="csv", by="child")
    text = r.content.decode("utf-8-sig")
    assert "办结率" in text and tree.street_a.name in text


def test_rubric_and_stars_through_the_api(client, figures, leader, street_staff):
    login(client, street_staff)
    body = {"name": "细则", "items": [{"indicator": "completion_rate", "weight": 1,
                                       "thresholds": [0.1, 0.2, 0.3, 0.4]}]}  # fmt: skip
    r = client.put(URL + "rubric", body, content_type="application/json")
    assert r.status_code == 403
    login(client, leader)
    r = client.put(URL + "rubric", body, content_type="application/json")
    assert r.status_code == 200 and r.json()["items"][0]["label"] == "办结率"
    month = timezone.localdate().replace(day=1).isoformat()
    r = client.post(URL + "stars/evaluate", {"month": month}, content_type="application/json")
    assert r.status_code == 200 and r.json()["rated"] == 4
    assert client.post(URL + "stars/publish", {"month": month},
                       content_type="application/json").json()["published"] == 4  # fmt: skip
    assert len(get(client, "stars").json()["ratings"]) == 4
