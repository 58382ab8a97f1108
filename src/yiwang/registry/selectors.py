"""Reads of the registry, always scoped by the actor (DESIGN.md "Scope").

Residents: a grid worker sees their grid, community staff their community, a street its
street, the district all. Department staff see only residents linked to their department's
work (ResidentLink rows, written by the cases app when a case is dispatched to them), never a
whole grid. Rows with no grid yet (the "needs address" queue) are seen by district-level actors
and by whoever entered them.

Every read of personal data (list, search, detail, reveal) writes exactly one access-log row
here, in the selector, so no caller can forget it."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.org.models import ROLE_LEVEL, Building, Grid, Role
from yiwang.org.permissions import READ_ACCESS_LOG, REVEAL_PERSONAL, has_permission
from yiwang.org.selectors import Scope, scope_for

from .idcard import IdError, id_parse
from .models import (
    AccessLog,
    House,
    Household,
    Organization,
    Place,
    Resident,
    ResidentLink,
    Tag,
)
from .privacy import access_log_write, purpose_clean

MAX_PAGE = 200


def registry_scope(actor) -> tuple[Scope, frozenset[int]]:
    """The tree part an actor sees people in, without the grids a department reaches through
    its team members (departments see people only through ResidentLink), and the departments."""
    scope = scope_for(actor)
    if scope.everything or not scope.department_ids:
        return scope, scope.department_ids
    streets, communities, grids = set(), set(), set()
    for kind, s, c, g in Role.objects.filter(user=actor).values_list(
        "kind", "street_id", "community_id", "grid_id"
    ):
        level = ROLE_LEVEL.get(kind)
        if level == "street":
            streets.add(s)
        elif level == "community":
            communities.add(c)
        elif level == "grid":
            grids.add(g)
    tree = Scope(
        street_ids=frozenset(streets),
        community_ids=frozenset(communities),
        grid_ids=frozenset(grids),
        role_kinds=scope.role_kinds,
    )
    return tree, scope.department_ids


def _element_q(actor, scope: Scope) -> Q:
    if scope.everything:
        return Q()
    q = scope.grid_q("grid")
    if getattr(actor, "is_authenticated", False):
        q |= Q(grid__isnull=True, created_by=actor)
    return q


def resident_scope_q(actor) -> Q:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return Q(pk__in=[])
    scope, departments = registry_scope(actor)
    q = _element_q(actor, scope)
    if departments and not scope.everything:
        linked = ResidentLink.objects.filter(department_id__in=sorted(departments))
        q |= Q(id__in=linked.values("resident_id"))
    return q


def visible_grid_ids(actor) -> set[int] | None:
    """The grids an actor may put people into; None = all of them."""
    scope, _departments = registry_scope(actor)
    if scope.everything:
        return None
    if scope.is_empty:
        return set()
    return set(Grid.objects.filter(scope.grid_q("")).values_list("id", flat=True))


# -- residents ------------------------------------------------------------------------------


@dataclass
class ResidentFilter:
    q: str = ""
    grid_id: int | None = None
    community_id: int | None = None
    street_id: int | None = None
    building_id: int | None = None
    household_id: int | None = None
    house_id: int | None = None
    tag: str = ""
    age_min: int | None = None
    age_max: int | None = None
    residence_type: str = ""
    needs_address: bool = False
    archived: bool = False

    def as_log(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, "", False)}

    @property
    def is_search(self) -> bool:
        return bool(self.q.strip())


def _birth_before(years: int, today: dt.date) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def resident_queryset(*, actor, f: ResidentFilter) -> QuerySet:
    """The scoped, filtered residents; no logging: callers are the logging selectors below and
    the export, each of which logs its own read."""
    qs = Resident.objects.filter(resident_scope_q(actor))
    qs = qs.filter(archived_at__isnull=not f.archived)
    if f.grid_id:
        qs = qs.filter(grid_id=f.grid_id)
    if f.community_id:
        qs = qs.filter(grid__community_id=f.community_id)
    if f.street_id:
        qs = qs.filter(grid__street_id=f.street_id)
    if f.building_id:
        qs = qs.filter(building_id=f.building_id)
    if f.household_id:
        qs = qs.filter(household_id=f.household_id)
    if f.house_id:
        qs = qs.filter(house_id=f.house_id)
    if f.tag:
        tag = Tag.objects.filter(Q(code=f.tag) | Q(name=f.tag)).first()
        qs = qs.filter(tags=tag) if tag else qs.none()
    today = timezone.localdate()
    if f.age_min is not None:
        qs = qs.filter(birth_date__lte=_birth_before(f.age_min, today))
    if f.age_max is not None:
        # Younger than age_max + 1: born after that many years ago.
        qs = qs.filter(birth_date__gt=_birth_before(f.age_max + 1, today))
    if f.residence_type:
        qs = qs.filter(residence_type=f.residence_type)
    if f.needs_address:
        qs = qs.filter(grid__isnull=True)
    text = f.q.strip()
    if text:
        cond = Q(name__contains=text) | Q(address__contains=text) | Q(workplace__contains=text)
        try:
            cond |= Q(id_number=id_parse(text).number)
        except IdError:
            if text.isdigit() and len(text) >= 4:
                cond |= Q(id_number__endswith=text.upper()) | Q(phones__icontains=text)
        qs = qs.filter(cond)
    return qs


def resident_list(
    *,
    actor,
    f: ResidentFilter,
    purpose: str | None = None,
    reason: str | None = None,
    limit: int = 50,
    offset: int = 0,
    channel: str = "api",
) -> tuple[list[Resident], int]:
    """One page of residents (masked by the caller through privacy.resident_masked) and the
    total. A text search must state its purpose. Logs one row: list or search, with the count
    of records shown."""
    purpose, reason = purpose_clean(purpose, reason, required=f.is_search)
    limit = max(1, min(limit, MAX_PAGE))
    qs = resident_queryset(actor=actor, f=f)
    total = qs.count()
    page = list(qs.order_by("id").prefetch_related("tags")[offset : offset + limit])
    access_log_write(
        actor=actor,
        action=AccessLog.Action.SEARCH if f.is_search else AccessLog.Action.LIST,
        purpose=purpose,
        reason=reason,
        filter={**f.as_log(), "offset": offset, "total": total},
        record_count=len(page),
        channel=channel,
    )
    return page, total


def resident_access(*, actor, id) -> Resident:
    """The only way to fetch one resident from untrusted input: 404 whether absent or out of
    scope. Does not log (used by edits); views of the card go through resident_view."""
    try:
        return (
            Resident.objects.filter(resident_scope_q(actor))
            .select_related("grid", "building", "household", "house")
            .prefetch_related("tags")
            .get(id=int(id))
        )
    except (Resident.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def resident_view(*, actor, id, purpose: str | None = None, channel: str = "api") -> Resident:
    resident = resident_access(actor=actor, id=id)
    purpose, reason = purpose_clean(purpose, "", required=False)
    access_log_write(
        actor=actor,
        action=AccessLog.Action.VIEW,
        purpose=purpose,
        record_count=1,
        obj=resident,
        channel=channel,
    )
    return resident


def resident_reveal(*, actor, id, reason: str, channel: str = "api") -> Resident:
    """The clear ID and phones, for an actor with the right who says why. Logged."""
    resident = resident_access(actor=actor, id=id)
    if not has_permission(actor, REVEAL_PERSONAL):
        raise PermissionDenied(REVEAL_PERSONAL)
    reason = (reason or "").strip()
    if len(reason) < 2:
        from django.core.exceptions import ValidationError

        raise ValidationError({"reason": [_("查看明文须填写事由")]})
    access_log_write(
        actor=actor,
        action=AccessLog.Action.REVEAL,
        purpose="verification",
        reason=reason[:200],
        record_count=1,
        obj=resident,
        channel=channel,
    )
    return resident


def household_access(*, actor, id) -> Household:
    scope, _d = registry_scope(actor)
    try:
        return (
            Household.objects.filter(_element_q(actor, scope))
            .select_related("grid", "building", "house", "head")
            .get(id=int(id))
        )
    except (Household.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def household_view(*, actor, id, channel: str = "api") -> tuple[Household, list[Resident]]:
    """A household with its members: personal data, so logged as one view."""
    household = household_access(actor=actor, id=id)
    members = list(
        Resident.objects.filter(resident_scope_q(actor), household=household, archived_at=None)
        .prefetch_related("tags")
        .order_by("id")
    )
    access_log_write(
        actor=actor,
        action=AccessLog.Action.VIEW,
        record_count=len(members),
        obj=household,
        channel=channel,
    )
    return household, members


# -- places, organisations, houses, households (no personal data beyond contacts) -------------


def element_list(*, actor, model, grid_id=None, q="", kind="", needs_address=False, archived=False):
    scope, _d = registry_scope(actor)
    qs = model.objects.filter(_element_q(actor, scope)).filter(archived_at__isnull=not archived)
    if grid_id:
        qs = qs.filter(grid_id=grid_id)
    if needs_address:
        qs = qs.filter(grid__isnull=True)
    if kind and hasattr(model, "kind"):
        qs = qs.filter(kind=kind)
    if q:
        if model in (Place, Organization):
            qs = qs.filter(Q(name__contains=q) | Q(address__contains=q))
        else:
            qs = qs.filter(address__contains=q)
    return qs.order_by("id")


def element_access(*, actor, model, id):
    scope, _d = registry_scope(actor)
    try:
        return model.objects.filter(_element_q(actor, scope)).get(id=int(id))
    except (model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def element_visible(*, actor, model, id) -> bool:
    """Whether a live (not archived) element or person is in the actor's scope: what a write
    may link to. `actor=None` is the system, which sees everything."""
    try:
        pk = int(id)
    except (TypeError, ValueError):
        return False
    qs = model.objects.filter(id=pk, archived_at__isnull=True)
    if actor is not None:
        if model is Resident:
            qs = qs.filter(resident_scope_q(actor))
        else:
            scope, _d = registry_scope(actor)
            qs = qs.filter(_element_q(actor, scope))
    return qs.exists()


def place_access(*, actor, id) -> Place:
    return element_access(actor=actor, model=Place, id=id)


def organization_access(*, actor, id) -> Organization:
    return element_access(actor=actor, model=Organization, id=id)


def house_access(*, actor, id) -> House:
    return element_access(actor=actor, model=House, id=id)


def _building_q(actor) -> Q | None:
    """Buildings whose grid the actor sees people in; None = none. Department staff reach no
    building: like houses, a building is seen through the grid tree, never through a case."""
    scope, _d = registry_scope(actor)
    if scope.is_empty:
        return None
    return scope.grid_q("grid")


def building_access(*, actor, id) -> Building:
    """The only way to fetch a building from untrusted input: 404 whether absent or its grid
    is outside the actor's scope."""
    q = _building_q(actor)
    try:
        if q is None:
            raise Building.DoesNotExist
        return (
            Building.objects.filter(q)
            .select_related("grid", "grid__community", "grid__street")
            .get(id=int(id))
        )
    except (Building.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def building_visible(*, actor, id) -> bool:
    """Whether a page may link to the building: the reader would not get a 404 there."""
    q = _building_q(actor)
    if q is None or id is None:
        return False
    return Building.objects.filter(q, id=id).exists()


@dataclass
class BuildingSummary:
    houses: list[House]  # live, in scope, each with .people_count
    residents: int
    households: int


def building_summary(*, actor, building: Building) -> BuildingSummary:
    """The figures a building page shows, counted once here. Someone lives in a building when
    their row or their house points at it (an address typed without a house still resolves
    to the building). Counts only, no names: not a read of personal data, so not logged."""
    # House ids as a list, not a join: each side of the OR then stays an index lookup.
    house_ids = list(House.objects.filter(building_id=building.id).values_list("id", flat=True))
    in_building = Q(building_id=building.id) | Q(house_id__in=house_ids)
    houses = list(
        element_list(actor=actor, model=House)
        .filter(building_id=building.id)
        .order_by("unit", "room", "id")
    )
    people = resident_queryset(actor=actor, f=ResidentFilter())
    per_house = dict(
        people.filter(house_id__in=[h.id for h in houses])
        .order_by()
        .values_list("house_id")
        .annotate(n=Count("id"))
        .values_list("house_id", "n")
    )
    for house in houses:
        house.people_count = per_house.get(house.id, 0)
    households = element_list(actor=actor, model=Household).filter(in_building)
    return BuildingSummary(
        houses=houses,
        residents=people.filter(in_building).count(),
        households=households.count(),
    )


def needs_address_counts(*, actor) -> dict[str, int]:
    """The "needs address" queue, per element kind, as far as the actor sees it."""
    return {
        name: element_list(actor=actor, model=model, needs_address=True).count()
        for name, model in (
            ("residents", Resident),
            ("households", Household),
            ("houses", House),
            ("places", Place),
            ("organizations", Organization),
        )
    }


def tag_list() -> QuerySet:
    return Tag.objects.filter(is_active=True)


# -- the access log ---------------------------------------------------------------------------


def can_read_access_log(actor) -> bool:
    """District auditors only: not even a superuser reads who looked at whom without the role."""
    from yiwang.org.models import RoleKind

    return has_permission(actor, READ_ACCESS_LOG) and scope_for(actor).has_role(RoleKind.AUDITOR)


def access_log_list(
    *, actor, actor_name: str = "", action: str = "", since=None, until=None
) -> QuerySet:
    if not can_read_access_log(actor):
        raise PermissionDenied(READ_ACCESS_LOG)
    qs = AccessLog.objects.all()
    if actor_name:
        qs = qs.filter(actor_name=actor_name)
    if action:
        qs = qs.filter(action=action)
    if since:
        qs = qs.filter(at__gte=since)
    if until:
        qs = qs.filter(at__lt=until)
    return qs.order_by("-at", "-id")
