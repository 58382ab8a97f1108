"""The demo district: it tiles, it holds the source document's places, it is deterministic."""

import hashlib

import pytest
import shapely
from django.db import transaction

from yiwang.demo import build_demo
from yiwang.demo.org import build_tree
from yiwang.geo.resolve import Level, resolve_address
from yiwang.geo.tiling import check_tiling
from yiwang.org.models import Building, Grid, GridTeamMember, PartyCentralHousehold, PartyOrg


def digest() -> str:
    h = hashlib.sha256()
    for row in Building.objects.order_by("road", "number", "compound", "building_no").values_list(
        "road", "number", "compound", "building_no", "lat", "lng", "grid__code"
    ):
        h.update(repr(row).encode())
    for row in Grid.objects.order_by("code").values_list("code", "name", "boundary"):
        h.update(repr(row).encode())
    return h.hexdigest()


@pytest.fixture
def demo(db):
    return build_demo(scale="small")


def test_small_demo_tiles_and_has_teams(demo):
    grids = list(Grid.objects.all())
    assert len(grids) == 40
    problems = check_tiling([(g.code, shapely.geometry.shape(g.boundary)) for g in grids])
    assert problems == []
    assert 300 <= Building.objects.count() <= 600
    for grid in grids:
        roles = set(GridTeamMember.objects.filter(grid=grid).values_list("role", flat=True))
        assert {"grid_leader", "grid_worker", "department_member", "police"} <= roles
    assert PartyOrg.objects.filter(level=PartyOrg.Level.BUILDING_GROUP).exists()
    assert PartyCentralHousehold.objects.exists()
    assert {u.username for u in demo} >= {"admin", "leader", "wangge", "chengguan"}


@pytest.mark.parametrize(
    "address, level, street",
    [
        ("青岛市市北区伊春路168号紫云台小区3号楼2单元501室", Level.BUILDING, "合肥路街道"),
        ("铁山路22号甲", Level.BUILDING, "阜新路街道"),
        ("平安路39号建国新村", Level.DOORPLATE, "四方街道"),
        ("市北区伊春路168号紫云台小区门口", Level.DOORPLATE, "合肥路街道"),
    ],
)
def test_source_document_places_resolve(demo, address, level, street):
    r = resolve_address(address)
    assert r.level == level, r.message
    assert Grid.objects.get(id=r.grid_id).street.name == street


def test_source_document_roads_are_known(demo):
    for road in ("九江路", "重庆路", "蚌埠路", "人民路", "平安路", "伊春路", "铁山路"):
        assert resolve_address(road).level == Level.ROAD, road


def test_demo_is_deterministic(db):
    with transaction.atomic():
        build_tree(scale="small", seed=5)
        first = digest()
        transaction.set_rollback(True)
    with transaction.atomic():
        build_tree(scale="small", seed=5)
        assert digest() == first
        transaction.set_rollback(True)
