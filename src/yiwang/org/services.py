"""Every change to the tree goes through here, acting user first."""

from __future__ import annotations

import hashlib
import math
import secrets

import shapely
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    ApiToken,
    Building,
    Community,
    Department,
    District,
    Grid,
    GridTeamMember,
    PartyOrg,
    Role,
    RoleKind,
    Street,
)
from .permissions import MANAGE_TEAMS, MANAGE_TREE, require_permission
from .selectors import scope_for

# Local metres per degree, good enough for areas and distances inside one district.
M_PER_DEG_LAT = 110_574.0


def _bump_grid_version(district_id: int) -> None:
    District.objects.filter(id=district_id).update(grid_version=F("grid_version") + 1)


def bump_address_version(district_id: int) -> None:
    District.objects.filter(id=district_id).update(address_version=F("address_version") + 1)


def district_create(*, actor, code: str, name: str) -> District:
    require_permission(actor, MANAGE_TREE)
    district = District.objects.create(code=code, name=name)
    PartyOrg.objects.create(
        level=PartyOrg.Level.DISTRICT_COMMITTEE, name=f"{name}委", district=district
    )
    return district


def street_create(*, actor, district: District, code: str, name: str, color: str = "") -> Street:
    require_permission(actor, MANAGE_TREE)
    street = Street.objects.create(
        district=district, code=code, name=name, color=color or "#3b82f6"
    )
    PartyOrg.objects.create(
        level=PartyOrg.Level.STREET_WORKING_COMMITTEE,
        name=f"{name}党工委",
        street=street,
        parent=PartyOrg.objects.filter(district=district).first(),
    )
    return street


def community_create(*, actor, street: Street, code: str, name: str) -> Community:
    require_permission(actor, MANAGE_TREE)
    community = Community.objects.create(street=street, code=code, name=name)
    PartyOrg.objects.create(
        level=PartyOrg.Level.COMMUNITY_COMMITTEE,
        name=f"{name}党委",
        community=community,
        parent=PartyOrg.objects.filter(street=street).first(),
    )
    return community


def polygon_facts(boundary: dict | None) -> dict:
    """Centroid and area (m²) of a GeoJSON polygon, for labels and reports."""
    if not boundary:
        return {"center_lat": None, "center_lng": None, "area_m2": 0.0}
    geom = shapely.geometry.shape(boundary)
    c = geom.centroid

    m_per_deg_lng = M_PER_DEG_LAT * math.cos(math.radians(c.y))
    return {
        "center_lat": c.y,
        "center_lng": c.x,
        "area_m2": geom.area * M_PER_DEG_LAT * m_per_deg_lng,
    }


def grid_create(
    *, actor, community: Community, code: str, name: str, boundary: dict | None = None
) -> Grid:
    """Creates a grid and its party branch; bumps the grid version so every process's
    point → grid index rebuilds."""
    require_permission(actor, MANAGE_TREE)
    with transaction.atomic():
        grid = Grid.objects.create(
            community=community,
            street_id=community.street_id,
            code=code,
            name=name,
            boundary=boundary,
            **polygon_facts(boundary),
        )
        PartyOrg.objects.create(
            level=PartyOrg.Level.GRID_BRANCH,
            name=f"{name}党支部",
            grid=grid,
            parent=PartyOrg.objects.filter(community=community).first(),
        )
        _bump_grid_version(community.street.district_id)
    _forget_local_indexes()
    return grid


def grid_update_boundary(*, actor, grid: Grid, boundary: dict) -> Grid:
    require_permission(actor, MANAGE_TREE)
    with transaction.atomic():
        for key, value in polygon_facts(boundary).items():
            setattr(grid, key, value)
        grid.boundary = boundary
        grid.save(update_fields=["boundary", "center_lat", "center_lng", "area_m2"])
        _bump_grid_version(grid.street.district_id)
    _forget_local_indexes()
    return grid


def _forget_local_indexes() -> None:
    # This process learns at once; others notice the bumped version within seconds.
    for hook in _INDEX_RESET_HOOKS:
        hook()


_INDEX_RESET_HOOKS: list = []


def register_index_reset(hook) -> None:
    """Lets a higher app (geo) drop its per-process index when this app changes the tree,
    without this app importing it."""
    _INDEX_RESET_HOOKS.append(hook)


def building_create(
    *,
    actor,
    grid: Grid,
    road: str,
    number: str,
    lat: float,
    lng: float,
    compound: str = "",
    building_no: str = "",
    name: str = "",
    kind: str = Building.Kind.BUILDING,
    floors: int | None = None,
    units: int | None = None,
) -> Building:
    require_permission(actor, MANAGE_TREE)
    building = Building(
        grid=grid,
        road=road,
        number=number,
        compound=compound,
        building_no=building_no,
        name=name,
        kind=kind,
        lat=lat,
        lng=lng,
        floors=floors,
        units=units,
    )
    building.full_clean()
    with transaction.atomic():
        building.save()
        bump_address_version(grid.street.district_id)
    _forget_local_indexes()
    return building


def department_create(
    *,
    actor,
    code: str,
    name: str,
    short_name: str = "",
    kind: str = Department.Kind.DISTRICT,
    street: Street | None = None,
    is_pilot: bool = False,
) -> Department:
    require_permission(actor, MANAGE_TREE)
    department = Department(
        code=code,
        name=name,
        short_name=short_name,
        kind=kind,
        street=street,
        is_pilot=is_pilot,
    )
    department.full_clean()
    department.save()
    return department


def team_member_add(
    *,
    actor,
    grid: Grid,
    role: str,
    name: str,
    phone: str = "",
    department: Department | None = None,
    user=None,
) -> GridTeamMember:
    """Adds a member to a grid's team (业务网格化). Staff may do so only within their scope."""
    require_permission(actor, MANAGE_TEAMS)
    if actor is not None and not scope_for(actor).covers_grid(grid):
        raise PermissionDenied("grid out of scope")
    member = GridTeamMember(
        grid=grid, role=role, name=name, phone=phone, department=department, user=user
    )
    try:
        member.full_clean()
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None
    member.save()
    return member


def role_grant(*, actor, user, kind: str, node) -> Role:
    """Binds a user to a node (district, street, community, grid) or department."""
    require_permission(actor, MANAGE_TREE)
    field = {
        District: "district",
        Street: "street",
        Community: "community",
        Grid: "grid",
        Department: "department",
    }.get(type(node))
    if field is None:
        raise ValidationError({"node": _("角色必须绑定到区、街道、社区、网格或部门")})
    role = Role(user=user, kind=kind, **{field: node})
    expected = {
        "district": {RoleKind.DISTRICT_LEADER, RoleKind.DISTRICT_ADMIN, RoleKind.AUDITOR},
        "street": {RoleKind.STREET_STAFF, RoleKind.STREET_LEADER},
        "community": {RoleKind.COMMUNITY_STAFF},
        "grid": {RoleKind.GRID_WORKER},
        "department": {RoleKind.DEPARTMENT_STAFF},
    }[field]
    if kind not in expected:
        raise ValidationError({"kind": _("该角色不能绑定到此层级")})
    role.save()
    for cached in ("_yiwang_scope", "_yiwang_roles"):
        if hasattr(user, cached):
            delattr(user, cached)
    return role


def api_token_create(*, actor, user, name: str) -> tuple[ApiToken, str]:
    """Issues a bearer token; the plain key is returned once and never stored."""
    if actor is not None and actor != user and not actor.is_superuser:
        raise PermissionDenied("tokens are issued to oneself")
    key = "yw_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        key_hash=hashlib.sha256(key.encode()).hexdigest(),
        prefix=key[:8],
    )
    return token, key


def api_token_revoke(*, actor, token: ApiToken) -> None:
    if actor is not None and actor != token.user and not actor.is_superuser:
        raise PermissionDenied("not your token")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])


def api_token_user(key: str):
    """The active user behind a bearer key, or None."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=digest, revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(id=token.id).update(last_used_at=now)
    return token.user
