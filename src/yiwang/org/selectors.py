"""Reads of the tree, always scoped by the actor. `scope_for` is the one answer to "which nodes
may this actor see"; every other app filters through the Scope it returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.http import Http404

from .models import (
    ROLE_LEVEL,
    Building,
    Community,
    Department,
    District,
    Grid,
    GridTeamMember,
    Role,
    RoleKind,
    Street,
)


@dataclass(frozen=True)
class Scope:
    """The part of the tree an actor may see. `everything` covers the whole district."""

    everything: bool = False
    street_ids: frozenset[int] = field(default_factory=frozenset)
    community_ids: frozenset[int] = field(default_factory=frozenset)
    grid_ids: frozenset[int] = field(default_factory=frozenset)
    department_ids: frozenset[int] = field(default_factory=frozenset)
    role_kinds: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_empty(self) -> bool:
        return not (self.everything or self.street_ids or self.community_ids or self.grid_ids)

    def grid_q(self, path: str = "grid") -> Q:
        """A filter for rows whose grid is at `path` ("" filters Grid itself)."""
        if self.everything:
            return Q()
        if path:
            street, community, grid = f"{path}__street_id", f"{path}__community_id", f"{path}_id"
        else:
            street, community, grid = "street_id", "community_id", "id"
        q = Q(pk__in=[])
        if self.street_ids:
            q |= Q(**{f"{street}__in": sorted(self.street_ids)})
        if self.community_ids:
            q |= Q(**{f"{community}__in": sorted(self.community_ids)})
        if self.grid_ids:
            q |= Q(**{f"{grid}__in": sorted(self.grid_ids)})
        return q

    def covers_grid(self, grid: Grid) -> bool:
        return (
            self.everything
            or grid.street_id in self.street_ids
            or grid.community_id in self.community_ids
            or grid.id in self.grid_ids
        )

    def has_role(self, *kinds: str) -> bool:
        return bool(self.role_kinds.intersection(kinds))


NO_SCOPE = Scope()


def scope_for(actor) -> Scope:
    """Which nodes this actor may see: the union over the actor's roles. Superusers see all.
    Department staff see the grids their department has team members in (业务网格化)."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return NO_SCOPE
    cached = getattr(actor, "_yiwang_scope", None)
    if cached is not None:
        return cached
    roles = list(Role.objects.filter(user=actor))
    kinds = frozenset(r.kind for r in roles)
    if actor.is_superuser:
        scope = Scope(everything=True, role_kinds=kinds | {RoleKind.DISTRICT_ADMIN})
    else:
        everything = False
        streets, communities, grids, departments = set(), set(), set(), set()
        for role in roles:
            level = ROLE_LEVEL[role.kind]
            if level == "district":
                everything = True
            elif level == "street":
                streets.add(role.street_id)
            elif level == "community":
                communities.add(role.community_id)
            elif level == "grid":
                grids.add(role.grid_id)
            elif level == "department":
                departments.add(role.department_id)
        if departments:
            grids.update(
                GridTeamMember.objects.filter(department_id__in=departments)
                .values_list("grid_id", flat=True)
                .distinct()
            )
            streets.update(
                Department.objects.filter(id__in=departments, street__isnull=False).values_list(
                    "street_id", flat=True
                )
            )
        scope = Scope(
            everything=everything,
            street_ids=frozenset(streets),
            community_ids=frozenset(communities),
            grid_ids=frozenset(grids),
            department_ids=frozenset(departments),
            role_kinds=kinds,
        )
    actor._yiwang_scope = scope
    return scope


def grid_list(*, actor, street_id: int | None = None, community_id: int | None = None) -> QuerySet:
    scope = scope_for(actor)
    qs = Grid.objects.filter(scope.grid_q("")).select_related("community", "street")
    if street_id is not None:
        qs = qs.filter(street_id=street_id)
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    return qs


def grid_access(*, actor, id: int | None = None, code: str | None = None) -> Grid:
    """The only way to fetch one grid from untrusted input: 404 whether absent or out of scope."""
    scope = scope_for(actor)
    qs = Grid.objects.select_related("community", "street")
    try:
        grid = qs.get(id=id) if id is not None else qs.get(code=code)
    except (Grid.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not scope.covers_grid(grid):
        raise Http404
    return grid


def street_list(*, actor) -> QuerySet:
    scope = scope_for(actor)
    if scope.everything:
        return Street.objects.all()
    visible_grids = Grid.objects.filter(scope.grid_q(""))
    return Street.objects.filter(
        Q(id__in=scope.street_ids) | Q(id__in=visible_grids.values("street_id"))
    )


def community_list(*, actor, street_id: int | None = None) -> QuerySet:
    scope = scope_for(actor)
    qs = Community.objects.select_related("street")
    if not scope.everything:
        visible_grids = Grid.objects.filter(scope.grid_q(""))
        qs = qs.filter(
            Q(street_id__in=scope.street_ids)
            | Q(id__in=scope.community_ids)
            | Q(id__in=visible_grids.values("community_id"))
        )
    if street_id is not None:
        qs = qs.filter(street_id=street_id)
    return qs


def district_current() -> District | None:
    return District.objects.order_by("id").first()


def building_list(*, actor, grid_id: int | None = None) -> QuerySet:
    scope = scope_for(actor)
    qs = Building.objects.filter(scope.grid_q("grid"))
    if grid_id is not None:
        qs = qs.filter(grid_id=grid_id)
    return qs


def building_access(*, actor, id: int) -> Building:
    scope = scope_for(actor)
    try:
        building = Building.objects.select_related("grid").get(id=id)
    except (Building.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not scope.covers_grid(building.grid):
        raise Http404
    return building


def team_list(*, actor, grid_id: int) -> QuerySet:
    grid = grid_access(actor=actor, id=grid_id)
    return GridTeamMember.objects.filter(grid=grid).select_related("department")


def department_list(*, actor) -> QuerySet:
    if scope_for(actor).is_empty and not scope_for(actor).department_ids:
        return Department.objects.none()
    return Department.objects.filter(is_active=True).select_related("street")
