"""Shared fixtures: a small hand-made district and the personas every feature is tested from:
a district leader, a street's staff, a community's staff, a grid worker (grid A1), another grid
worker (grid B1), a department handler, and an outsider who must see nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model

from yiwang.geo import index as geo_index
from yiwang.geo import resolve as geo_resolve
from yiwang.geo.models import Compound, Road
from yiwang.org.models import RoleKind, TeamRole
from yiwang.org.services import (
    building_create,
    community_create,
    department_create,
    district_create,
    grid_create,
    role_grant,
    street_create,
    team_member_add,
)

LNG0, LAT0, STEP = 120.35, 36.08, 0.01


def square(i: int, j: int = 0) -> dict:
    """The unit cell i (west → east), j (south → north), as a GeoJSON polygon."""
    x0, y0 = LNG0 + i * STEP, LAT0 + j * STEP
    ring = [[x0, y0], [x0 + STEP, y0], [x0 + STEP, y0 + STEP], [x0, y0 + STEP], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def centre(i: int, j: int = 0) -> tuple[float, float]:
    """(lat, lng) of cell i, j's centre."""
    return LAT0 + (j + 0.5) * STEP, LNG0 + (i + 0.5) * STEP


@dataclass
class Tree:
    district: object
    street_a: object
    street_b: object
    community_a: object
    community_b: object
    grid_a1: object
    grid_a2: object
    grid_b1: object
    grid_b2: object
    chengguan: object
    squad_b: object


@pytest.fixture(autouse=True)
def _seed_data(request):
    """Transactional tests flush the tables, taking the migrations' seed data (categories,
    tags) with them; tests that use the database get it back when it is missing."""
    if {"db", "transactional_db"} & set(request.fixturenames):
        from yiwang.demo import ensure_seed_data

        request.getfixturevalue(
            "transactional_db" if "transactional_db" in request.fixturenames else "db"
        )
        ensure_seed_data()


@pytest.fixture(autouse=True)
def _fresh_indexes():
    geo_index.reset()
    geo_resolve.reset()
    yield
    geo_index.reset()
    geo_resolve.reset()


@pytest.fixture
def tree(db) -> Tree:
    district = district_create(actor=None, code="370203", name="市北区")
    district.boundary = {
        "type": "Polygon",
        "coordinates": [
            [
                [LNG0, LAT0],
                [LNG0 + 4 * STEP, LAT0],
                [LNG0 + 4 * STEP, LAT0 + STEP],
                [LNG0, LAT0 + STEP],
                [LNG0, LAT0],
            ]
        ],
    }
    district.save(update_fields=["boundary"])
    street_a = street_create(actor=None, district=district, code="S01", name="即墨路街道")
    street_b = street_create(actor=None, district=district, code="S02", name="合肥路街道")
    community_a = community_create(actor=None, street=street_a, code="S01C01", name="小港社区")
    community_b = community_create(actor=None, street=street_b, code="S02C01", name="紫云社区")
    grid_a1 = grid_create(
        actor=None, community=community_a, code="S01C0101", name="小港第一网格", boundary=square(0)
    )
    grid_a2 = grid_create(
        actor=None, community=community_a, code="S01C0102", name="小港第二网格", boundary=square(1)
    )
    grid_b1 = grid_create(
        actor=None, community=community_b, code="S02C0101", name="紫云第一网格", boundary=square(2)
    )
    grid_b2 = grid_create(
        actor=None, community=community_b, code="S02C0102", name="紫云第二网格", boundary=square(3)
    )
    for name in ("伊春路", "铁山路", "人民路", "平安路", "九江路"):
        Road.objects.create(name=name)

    def b(grid, i, road, number, compound="", building_no="", dx=0.0):
        lat, lng = centre(i)
        return building_create(
            actor=None,
            grid=grid,
            road=road,
            number=number,
            compound=compound,
            building_no=building_no,
            lat=lat + dx,
            lng=lng + dx,
        )

    for n in ("1", "2", "3"):
        b(grid_b1, 2, "伊春路", "168", "紫云台小区", n, dx=int(n) * 0.001)
    b(grid_a1, 0, "铁山路", "22甲")
    b(grid_a1, 0, "铁山路", "22", dx=0.001)
    b(grid_a1, 0, "人民路", "10", dx=0.002)
    b(grid_a2, 1, "人民路", "30")
    b(grid_a2, 1, "平安路", "39", "建国新村", "1")
    b(grid_a2, 1, "平安路", "39", "建国新村", "2", dx=0.001)
    b(grid_b2, 3, "九江路", "5")
    Compound.objects.create(
        name="建国新村", road=Road.objects.get(name="平安路"), number="39", grid=grid_a2
    )
    chengguan = department_create(
        actor=None, code="CG", name="区城市管理局", short_name="城管", is_pilot=True
    )
    squad_b = department_create(
        actor=None,
        code="S02ZF",
        name="合肥路街道综合行政执法中队",
        kind="street_unit",
        street=street_b,
    )
    team_member_add(actor=None, grid=grid_a1, role=TeamRole.GRID_LEADER, name="王网格长")
    team_member_add(actor=None, grid=grid_a1, role=TeamRole.GRID_WORKER, name="李网格员")
    team_member_add(
        actor=None,
        grid=grid_a1,
        role=TeamRole.DEPARTMENT_MEMBER,
        name="赵城管",
        department=chengguan,
    )
    team_member_add(actor=None, grid=grid_b1, role=TeamRole.GRID_WORKER, name="孙网格员")
    return Tree(
        district,
        street_a,
        street_b,
        community_a,
        community_b,
        grid_a1,
        grid_a2,
        grid_b1,
        grid_b2,
        chengguan,
        squad_b,
    )


def _user(username, *, superuser=False):
    return get_user_model().objects.create_user(
        username=username, password="pw-" + username, is_superuser=superuser, is_staff=superuser
    )


@pytest.fixture
def admin_user(tree):
    return _user("admin", superuser=True)


@pytest.fixture
def leader(tree):
    user = _user("leader")
    role_grant(actor=None, user=user, kind=RoleKind.DISTRICT_LEADER, node=tree.district)
    return user


@pytest.fixture
def street_staff(tree):
    user = _user("street")
    role_grant(actor=None, user=user, kind=RoleKind.STREET_STAFF, node=tree.street_a)
    return user


@pytest.fixture
def community_staff(tree):
    user = _user("community")
    role_grant(actor=None, user=user, kind=RoleKind.COMMUNITY_STAFF, node=tree.community_b)
    return user


@pytest.fixture
def worker_a(tree):
    user = _user("worker_a")
    role_grant(actor=None, user=user, kind=RoleKind.GRID_WORKER, node=tree.grid_a1)
    return user


@pytest.fixture
def worker_b(tree):
    user = _user("worker_b")
    role_grant(actor=None, user=user, kind=RoleKind.GRID_WORKER, node=tree.grid_b1)
    return user


@pytest.fixture
def department_staff(tree):
    user = _user("chengguan")
    role_grant(actor=None, user=user, kind=RoleKind.DEPARTMENT_STAFF, node=tree.chengguan)
    return user


@pytest.fixture
def outsider(tree):
    return _user("charlie")


def login(client, user):
    client.force_login(user)
    return client
