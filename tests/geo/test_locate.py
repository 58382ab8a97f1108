"""Point → grid, single and batched, including points outside the district and rebuilds when
another process changes the grid set."""

import random

import numpy as np
from django.test import override_settings

from tests.conftest import LAT0, LNG0, STEP, centre, login, square
from yiwang.geo.index import grid_index, locate, locate_many
from yiwang.org.models import District, Grid


def test_point_inside_each_grid(tree):
    for i, grid in enumerate((tree.grid_a1, tree.grid_a2, tree.grid_b1, tree.grid_b2)):
        found = locate(*centre(i))
        assert found.inside
        assert found.grid_id == grid.id
        assert found.grid_code == grid.code


def test_shared_edge_is_stable(tree):
    lat = LAT0 + STEP / 2
    lng = LNG0 + STEP  # the edge between A1 and A2
    assert locate(lat, lng).grid_id == locate(lat, lng).grid_id
    assert locate(lat, lng).grid_id in (tree.grid_a1.id, tree.grid_a2.id)
    assert locate_many([lat], [lng])[0] == locate(lat, lng).grid_id


def test_point_outside_names_nearest_grid_and_distance(tree):
    lat, lng = centre(0)
    found = locate(lat, LNG0 - 0.01)  # 0.01° west of the district ≈ 900 m at 36°N
    assert not found.inside
    assert found.grid_id == tree.grid_a1.id
    assert 850 < found.distance_m < 950


def test_batch_agrees_with_single(tree):
    rnd = random.Random(7)
    lats = [LAT0 - 0.002 + rnd.random() * (STEP + 0.004) for _ in range(500)]
    lngs = [LNG0 - 0.002 + rnd.random() * (4 * STEP + 0.004) for _ in range(500)]
    batch = locate_many(lats, lngs)
    for lat, lng, got in zip(lats, lngs, batch, strict=True):
        single = locate(lat, lng)
        assert got == (single.grid_id if single.inside else -1)
    assert (batch == -1).any() and (batch != -1).any()
    assert isinstance(batch, np.ndarray)


@override_settings(YIWANG_GRID_INDEX_CHECK_SECONDS=0)
def test_index_follows_changes_made_by_another_process(tree):
    assert len(grid_index()) == 4
    # Another process adds a grid: it writes the row and bumps the version; this process's
    # index has not been told, and must notice by itself.
    Grid.objects.create(
        community=tree.community_b,
        street=tree.street_b,
        code="S02C0103",
        name="新网格",
        boundary=square(4),
    )
    District.objects.filter(id=tree.district.id).update(grid_version=999)
    lat, lng = centre(4)
    assert locate(lat, lng).grid_code == "S02C0103"


def test_locate_api(client, tree, worker_a):
    login(client, worker_a)
    data = client.get("/api/v1/geo/locate", {"lat": centre(2)[0], "lng": centre(2)[1]}).json()
    assert data["inside"] and data["grid_code"] == "S02C0101"
    data = client.get("/api/v1/geo/locate", {"lat": LAT0 + 0.005, "lng": LNG0 - 0.01}).json()
    assert not data["inside"]
    assert data["grid_code"] == "S01C0101"
    assert "不在本区任何网格内" in data["message"] and "米" in data["message"]


def test_locate_api_bad_input(client, tree, worker_a):
    login(client, worker_a)
    for params, field in (
        ({"lat": "abc", "lng": "120.3"}, "lat"),
        ({"lat": "100", "lng": "120.3"}, "lat"),
        ({"lat": "36.1"}, "lng"),
    ):
        response = client.get("/api/v1/geo/locate", params)
        assert response.status_code == 400, params
        body = response.json()
        assert body["code"] == "invalid"
        assert body["field"] == field
    assert client.logout() is None
    assert client.get("/api/v1/geo/locate", {"lat": 36, "lng": 120}).status_code == 401
