"""Address → building → grid over the address base, through the resolver and the API."""

import pytest

from tests.conftest import login
from yiwang.geo.resolve import Level, resolve_address


@pytest.mark.parametrize(
    "text, level, grid_code, building",
    [
        ("青岛市市北区伊春路168号紫云台小区3号楼2单元501室", Level.BUILDING, "S02C0101", "3"),
        ("伊春路168号紫云台小区2号楼", Level.BUILDING, "S02C0101", "2"),
        ("市北区伊春路168号紫云台小区", Level.DOORPLATE, "S02C0101", None),
        ("伊春路１６８号", Level.DOORPLATE, "S02C0101", None),
        ("铁山路22号甲", Level.BUILDING, "S01C0101", ""),
        ("市北区铁山路22号", Level.BUILDING, "S01C0101", ""),
        ("平安路39号建国新村", Level.DOORPLATE, "S01C0102", None),
        ("平安路39号建国新村2号楼", Level.BUILDING, "S01C0102", "2"),
        ("九江路5号", Level.BUILDING, "S02C0102", ""),
    ],
)
def test_resolves(tree, text, level, grid_code, building):
    r = resolve_address(text)
    assert r.level == level, r.message
    assert r.grid_code == grid_code
    assert r.confidence >= 0.9
    if building is not None:
        assert r.building_id is not None


def test_unknown_suffix_falls_back_to_base_number_with_lower_confidence(tree):
    r = resolve_address("铁山路22号乙")
    assert r.grid_code == "S01C0101"
    assert r.confidence < 0.9
    assert "近似" in r.message


def test_road_only_gives_candidates_not_a_guess(tree):
    r = resolve_address("人民路")
    assert r.level == Level.ROAD
    assert r.grid_id is None  # 人民路 runs through two grids: no silent guess
    assert {c.grid_code for c in r.candidates} == {"S01C0101", "S01C0102"}
    assert "2 个网格" in r.message


def test_road_with_unknown_number_gives_candidates(tree):
    r = resolve_address("人民路999号")
    assert r.level == Level.ROAD
    assert r.grid_id is None
    assert "999" in r.message


def test_road_in_one_grid_resolves_with_low_confidence(tree):
    r = resolve_address("九江路某小区22楼")
    assert r.grid_code == "S02C0102"
    assert r.confidence <= 0.5


def test_compound_without_road(tree):
    r = resolve_address("建国新村1号楼")
    assert r.level == Level.BUILDING
    assert r.grid_code == "S01C0102"


def test_street_mismatch_lowers_confidence(tree):
    r = resolve_address("即墨路街道伊春路168号紫云台小区3号楼")
    assert r.grid_code == "S02C0101"
    assert r.confidence <= 0.5
    assert "不属于即墨路街道" in r.message


@pytest.mark.parametrize("text", ["", "请尽快处理", "asdf", '%_"*():NEAR -', "占道经营" * 100])
def test_unresolvable(tree, text):
    r = resolve_address(text)
    assert r.level == Level.NONE
    assert r.grid_id is None
    assert r.message


def test_unknown_road_is_named(tree):
    r = resolve_address("长江路8号")
    assert r.grid_id is None
    assert "长江路" in r.message


def test_resolve_api(client, tree, worker_a):
    login(client, worker_a)
    data = client.get("/api/v1/geo/resolve", {"address": "伊春路168号紫云台小区3号楼"}).json()
    assert data["resolved"] is True
    assert data["grid_code"] == "S02C0101"
    assert data["building_address"] == "伊春路168号紫云台小区3号楼"
    assert data["parsed"]["road"] == "伊春路"
    data = client.get("/api/v1/geo/resolve", {"address": "人民路"}).json()
    assert data["resolved"] is False
    assert len(data["candidates"]) == 2


def test_resolve_api_bad_input(client, tree, worker_a):
    login(client, worker_a)
    for params in ({}, {"address": ""}, {"address": "路" * 301}):
        response = client.get("/api/v1/geo/resolve", params)
        assert response.status_code == 400
        assert response.json()["field"] == "address"


def test_new_building_is_resolvable_at_once(tree):
    from yiwang.org.services import building_create

    assert resolve_address("九江路7号").level == Level.ROAD
    building_create(
        actor=None, grid=tree.grid_b2, road="九江路", number="7", lat=36.085, lng=120.385
    )
    assert resolve_address("九江路7号").level == Level.BUILDING
