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
