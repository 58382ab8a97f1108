"""Role scope on the tree, from every persona's side, through selectors and the API."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tests.conftest import login
from yiwang.org.models import District, Role, RoleKind, TeamRole
from yiwang.org.selectors import grid_list, scope_for
from yiwang.org.services import api_token_create, api_token_revoke, role_grant, team_member_add


def codes(user):
    return sorted(g.code for g in grid_list(actor=user))


def test_leader_sees_every_grid(tree, leader):
    assert codes(leader) == ["S01C0101", "S01C0102", "S02C0101", "S02C0102"]
    assert scope_for(leader).everything


def test_street_staff_sees_their_street(tree, street_staff):
    assert codes(street_staff) == ["S01C0101", "S01C0102"]


def test_community_staff_sees_their_community(tree, community_staff):
    assert codes(community_staff) == ["S02C0101", "S02C0102"]


def test_grid_worker_sees_their_grid_only(tree, worker_a, worker_b):
    assert codes(worker_a) == ["S01C0101"]
    assert codes(worker_b) == ["S02C0101"]


def test_department_sees_grids_it_has_members_in(tree, department_staff):
    assert codes(department_staff) == ["S01C0101"]


def test_outsider_sees_nothing(tree, outsider):
    assert codes(outsider) == []
    assert scope_for(outsider).is_empty


def test_anonymous_sees_nothing(tree):
    from django.contrib.auth.models import AnonymousUser

    assert list(grid_list(actor=AnonymousUser())) == []


def test_superuser_sees_everything(tree, admin_user):
    assert len(codes(admin_user)) == 4


@pytest.mark.parametrize(
    "persona, visible",
    [
        ("leader", {"S01C0101", "S01C0102", "S02C0101", "S02C0102"}),
        ("street_staff", {"S01C0101", "S01C0102"}),
        ("community_staff", {"S02C0101", "S02C0102"}),
        ("worker_a", {"S01C0101"}),
        ("worker_b", {"S02C0101"}),
        ("department_staff", {"S01C0101"}),
        ("outsider", set()),
    ],
)
def test_grid_detail_matrix(client, tree, request, persona, visible):
    """Every persona against every grid: visible ones answer 200, others 404 (not 403, so the
    existence of a grid out of scope is not told)."""
    user = request.getfixturevalue(persona)
    login(client, user)
    for grid in (tree.grid_a1, tree.grid_a2, tree.grid_b1, tree.grid_b2):
        response = client.get(f"/api/v1/org/grids/{grid.id}")
        if grid.code in visible:
            assert response.status_code == 200, (persona, grid.code)
            assert response.json()["code"] == grid.code
        else:
            assert response.status_code == 404, (persona, grid.code)
            assert response.json()["code"] == "not_found"
        response = client.get(f"/api/v1/org/grids/{grid.id}/buildings")
        assert response.status_code == (200 if grid.code in visible else 404)
    tree_codes = {
        g["code"]
        for s in client.get("/api/v1/org/tree").json()["streets"]
        for c in s["communities"]
        for g in c["grids"]
    }
    assert tree_codes == visible
    features = client.get("/api/v1/org/grids.geojson").json()["features"]
    assert {f["properties"]["code"] for f in features} == visible


def test_grid_detail_shows_team(client, tree, worker_a):
    login(client, worker_a)
    data = client.get(f"/api/v1/org/grids/{tree.grid_a1.id}").json()
    assert {m["name"] for m in data["team"]} == {"王网格长", "李网格员", "赵城管"}
    member = next(m for m in data["team"] if m["name"] == "赵城管")
    assert member["role_label"] == "部门专员"
    assert member["department"] == "城管"
    assert data["party_branch"] == "小港第一网格党支部"
    assert data["building_count"] == 3


def test_anonymous_api_is_refused_with_error_shape(client, tree):
    response = client.get("/api/v1/org/tree")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_unknown_grid_is_404_not_500(client, tree, leader):
    login(client, leader)
    assert client.get("/api/v1/org/grids/999999").status_code == 404
    response = client.get("/api/v1/org/grids/abc")
    assert response.status_code == 400
    assert response.json()["field"] == "grid_id"


def test_bearer_token(client, tree, worker_a):
    _token, key = api_token_create(actor=worker_a, user=worker_a, name="phone")
    response = client.get("/api/v1/org/tree", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    assert response.json()["streets"][0]["communities"][0]["grids"][0]["code"] == "S01C0101"
    assert client.get("/api/v1/org/tree", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    api_token_revoke(actor=worker_a, token=_token)
    assert client.get("/api/v1/org/tree", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


def test_me(client, tree, worker_a):
    login(client, worker_a)
    data = client.get("/api/v1/org/me").json()
    assert data["roles"] == [
        {
            "kind": "grid_worker",
            "label": "网格员",
            "node": "小港第一网格 (S01C0101)",
            "node_type": "grid",
            "node_id": tree.grid_a1.id,
        }
    ]


def test_role_must_match_its_level(tree, outsider):
    with pytest.raises(ValidationError):
        role_grant(actor=None, user=outsider, kind=RoleKind.GRID_WORKER, node=tree.street_a)
    with pytest.raises(ValidationError):
        role_grant(actor=None, user=outsider, kind=RoleKind.STREET_STAFF, node="not a node")
    # The database holds the same rule for rows written around the service.
    with pytest.raises(IntegrityError), transaction.atomic():
        Role.objects.create(user=outsider, kind=RoleKind.GRID_WORKER, street=tree.street_a)


def test_team_changes_need_scope(tree, worker_a, street_staff):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        team_member_add(actor=worker_a, grid=tree.grid_a1, role=TeamRole.VOLUNTEER, name="x")
    with pytest.raises(PermissionDenied):
        team_member_add(actor=street_staff, grid=tree.grid_b1, role=TeamRole.VOLUNTEER, name="x")
    member = team_member_add(
        actor=street_staff, grid=tree.grid_a2, role=TeamRole.VOLUNTEER, name="志愿者甲"
    )
    assert member.grid == tree.grid_a2


def test_department_member_needs_department(tree):
    with pytest.raises(ValidationError):
        team_member_add(
            actor=None, grid=tree.grid_a1, role=TeamRole.DEPARTMENT_MEMBER, name="无部门"
        )


def test_grid_changes_bump_version(tree):
    before = District.objects.get(id=tree.district.id).grid_version
    from tests.conftest import square
    from yiwang.org.services import grid_update_boundary

    grid_update_boundary(actor=None, grid=tree.grid_b2, boundary=square(3))
    assert District.objects.get(id=tree.district.id).grid_version == before + 1


def test_party_chain_mirrors_the_tree(tree):
    from yiwang.org.models import PartyOrg

    branch = PartyOrg.objects.get(grid=tree.grid_a1)
    assert branch.level == PartyOrg.Level.GRID_BRANCH
    assert branch.parent.community == tree.community_a
    assert branch.parent.parent.street == tree.street_a
    assert branch.parent.parent.parent.district == tree.district
    assert [p.get_level_display() for p in (branch.parent.parent.parent, branch.parent.parent)] == [
        "区委",
        "街道党工委",
    ]


def test_admin_pages_render(client, tree, admin_user):
    login(client, admin_user)
    for url in (
        "/admin/",
        "/admin/org/grid/",
        f"/admin/org/grid/{tree.grid_a1.id}/change/",
        "/admin/org/street/",
        "/admin/org/building/",
        "/admin/org/department/",
        "/admin/org/role/",
        "/admin/org/partyorg/",
        "/admin/geo/road/",
        "/admin/geo/compound/",
    ):
        assert client.get(url).status_code == 200, url
