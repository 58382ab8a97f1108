"""The tree, grids with GeoJSON, buildings, departments and teams: parse, guard, select, shape."""

from django.http import JsonResponse
from ninja import Router

from . import selectors
from .models import PartyOrg, Role
from .schemas import (
    BuildingOut,
    DepartmentOut,
    GridDetailOut,
    GridOut,
    MeOut,
    TeamMemberOut,
    TreeOut,
)

router = Router(tags=["org"])


def _grid_out(g) -> dict:
    return {
        "id": g.id,
        "code": g.code,
        "name": g.name,
        "community_id": g.community_id,
        "community": g.community.name,
        "street_id": g.street_id,
        "street": g.street.name,
        "center_lat": g.center_lat,
        "center_lng": g.center_lng,
        "area_m2": round(g.area_m2, 1),
    }


def _member_out(m) -> dict:
    return {
        "id": m.id,
        "role": m.role,
        "role_label": m.get_role_display(),
        "name": m.name,
        "phone": m.phone,
        "department": m.department.short_name or m.department.name if m.department else None,
    }


@router.get("/me", response=MeOut)
def me(request):
    user = request.user
    roles = []
    for role in Role.objects.filter(user=user).select_related(
        "district", "street", "community", "grid", "department"
    ):
        node = role.node
        roles.append(
            {
                "kind": role.kind,
                "label": role.get_kind_display(),
                "node": str(node),
                "node_type": type(node).__name__.lower(),
                "node_id": node.id,
            }
        )
    return {
        "username": user.username,
        "name": user.get_full_name() or user.username,
        "is_superuser": user.is_superuser,
        "roles": roles,
    }


@router.get("/tree", response=TreeOut)
def tree(request):
    """Streets → communities → grids, as far as the actor's scope reaches."""
    grids = selectors.grid_list(actor=request.user).order_by("code")
    streets: dict[int, dict] = {}
    communities: dict[int, dict] = {}
    for g in grids:
        s = streets.setdefault(
            g.street_id,
            {
                "id": g.street_id,
                "code": g.street.code,
                "name": g.street.name,
                "color": g.street.color,
                "communities": [],
            },
        )
        c = communities.get(g.community_id)
        if c is None:
            c = {
                "id": g.community_id,
                "code": g.community.code,
                "name": g.community.name,
                "grids": [],
            }
            communities[g.community_id] = c
            s["communities"].append(c)
        c["grids"].append({"id": g.id, "code": g.code, "name": g.name})
    district = selectors.district_current()
    return {
        "district": district.name if district and streets else None,
        "streets": sorted(streets.values(), key=lambda s: s["code"]),
    }


@router.get("/grids", response=list[GridOut])
def grid_list(request, street_id: int | None = None, community_id: int | None = None):
    qs = selectors.grid_list(actor=request.user, street_id=street_id, community_id=community_id)
    return [_grid_out(g) for g in qs]


@router.get("/grids.geojson")
def grid_geojson(request, street_id: int | None = None, community_id: int | None = None):
    """The grids in scope as a GeoJSON FeatureCollection, coloured by street, for the map."""
    qs = selectors.grid_list(
        actor=request.user, street_id=street_id, community_id=community_id
    ).order_by("code")
    features = [
        {
            "type": "Feature",
            "id": g.id,
            "properties": {**_grid_out(g), "color": g.street.color},
            "geometry": g.boundary,
        }
        for g in qs
        if g.boundary
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})


@router.get("/grids/{grid_id}", response=GridDetailOut)
def grid_detail(request, grid_id: int):
    grid = selectors.grid_access(actor=request.user, id=grid_id)
    team = selectors.team_list(actor=request.user, grid_id=grid.id)
    branch = PartyOrg.objects.filter(grid=grid).values_list("name", flat=True).first()
    return {
        **_grid_out(grid),
        "boundary": grid.boundary,
        "team": [_member_out(m) for m in team],
        "building_count": grid.buildings.count(),
        "party_branch": branch,
    }


@router.get("/grids/{grid_id}/team", response=list[TeamMemberOut])
def grid_team(request, grid_id: int):
    return [_member_out(m) for m in selectors.team_list(actor=request.user, grid_id=grid_id)]


@router.get("/grids/{grid_id}/buildings", response=list[BuildingOut])
def grid_buildings(request, grid_id: int):
    grid = selectors.grid_access(actor=request.user, id=grid_id)
    return [_building_out(b) for b in selectors.building_list(actor=request.user, grid_id=grid.id)]


def _building_out(b) -> dict:
    return {
        "id": b.id,
        "address": b.address,
        "road": b.road,
        "number": b.number,
        "compound": b.compound,
        "building_no": b.building_no,
        "kind": b.kind,
        "lat": b.lat,
        "lng": b.lng,
        "grid_id": b.grid_id,
        "floors": b.floors,
        "units": b.units,
    }


@router.get("/buildings/{building_id}", response=BuildingOut)
def building_detail(request, building_id: int):
    return _building_out(selectors.building_access(actor=request.user, id=building_id))


@router.get("/departments", response=list[DepartmentOut])
def department_list(request):
    return list(selectors.department_list(actor=request.user))
