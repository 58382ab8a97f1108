"""Reads of cases, scoped by the actor: desks see their part of the tree, departments what was
dispatched to them, reporters their own. `case_access` is the only way to fetch one case
from a request."""

from __future__ import annotations

import math
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from yiwang.org.models import Role
from yiwang.org.selectors import scope_for

from .models import Assignment, Case, Category
from .policy import DESK_KINDS, can_see
from .states import OPEN_STATES, State


def visible_q(actor) -> Q:
    if actor is None or not actor.is_authenticated:
        return Q(pk__in=[])
    if actor.is_superuser:
        return Q()
    q = Q(reporter_id=actor.id)
    streets, communities, grids = set(), set(), set()
    for role in Role.objects.filter(user=actor, kind__in=list(DESK_KINDS)):
        if role.district_id:
            return Q()
        if role.street_id:
            streets.add(role.street_id)
        if role.community_id:
            communities.add(role.community_id)
        if role.grid_id:
            grids.add(role.grid_id)
    if streets:
        q |= Q(street_id__in=sorted(streets))
    if communities:
        q |= Q(community_id__in=sorted(communities))
    if grids:
        q |= Q(grid_id__in=sorted(grids))
    departments = scope_for(actor).department_ids
    if departments:
        q |= Q(
            id__in=Assignment.objects.filter(department_id__in=sorted(departments)).values(
                "case_id"
            )
        )
    return q


def case_list(
    *,
    actor,
    state: str | None = None,
    open_only: bool = False,
    overdue: bool | None = None,
    category_id: int | None = None,
    grid_id: int | None = None,
    text: str | None = None,
) -> QuerySet:
    qs = Case.objects.filter(visible_q(actor)).select_related("category", "grid", "department")
    if state:
        qs = qs.filter(state=state)
    if open_only:
        qs = qs.filter(state__in=OPEN_STATES)
    if overdue is not None:
        qs = qs.filter(is_overdue=overdue)
    if category_id:
        qs = qs.filter(Q(category_id=category_id) | Q(category__parent_id=category_id))
    if grid_id:
        qs = qs.filter(grid_id=grid_id)
    if text:
        qs = qs.filter(Q(title__icontains=text) | Q(number__icontains=text))
    return qs


def case_queue(*, actor) -> QuerySet:
    """My queue: open cases I can see, overdue first, then by deadline."""
    return case_list(actor=actor, open_only=True).order_by("-is_overdue", "resolve_due", "id")


def queue_counts(*, actor) -> dict[str, int]:
    rows = (
        Case.objects.filter(visible_q(actor), state__in=OPEN_STATES)
        .values("state")
        .annotate(n=Count("id"))
    )
    counts = {r["state"]: r["n"] for r in rows}
    counts["overdue"] = Case.objects.filter(
        visible_q(actor), state__in=OPEN_STATES, is_overdue=True
    ).count()
    return counts


def case_access(*, actor, case_id, for_write: bool = False) -> Case:
    """404 whether the case does not exist or the actor may not see it."""
    try:
        case = Case.objects.select_related(
            "category", "category__parent", "grid", "community", "street", "department", "leader"
        ).get(id=int(case_id))
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not can_see(actor, case):
        raise Http404
    return case


def case_by_number(*, actor, number: str) -> Case:
    row = Case.objects.filter(number=number).values_list("id", flat=True).first()
    if row is None:
        raise Http404
    return case_access(actor=actor, case_id=row)


def my_reports(*, actor) -> QuerySet:
    if actor is None or not actor.is_authenticated:
        return Case.objects.none()
    return (
        Case.objects.filter(Q(reporter=actor) | Q(followers__user=actor))
        .distinct()
        .select_related("category")
        .order_by("-reported_at")
    )


def nearby_open(
    *, category: Category, lat: float, lng: float, exclude_id: int | None = None, limit: int = 5
) -> list[Case]:
    """Open cases of the same category within its duplicate radius: "is it this one?"."""
    radius = category.duplicate_radius_m
    dlat = radius / 110_574.0
    dlng = radius / (111_320.0 * math.cos(math.radians(lat)))
    qs = Case.objects.filter(
        category=category,
        state__in=OPEN_STATES,
        lat__range=(lat - dlat, lat + dlat),
        lng__range=(lng - dlng, lng + dlng),
    )
    if exclude_id:
        qs = qs.exclude(id=exclude_id)
    found = []
    for case in qs.order_by("-reported_at")[:50]:
        d = math.hypot(
            (case.lat - lat) * 110_574.0, (case.lng - lng) * 111_320.0 * math.cos(math.radians(lat))
        )
        if d <= radius:
            case.distance_m = round(d)
            found.append(case)
    found.sort(key=lambda c: c.distance_m)
    return found[:limit]


def category_tree() -> list[Category]:
    return list(
        Category.objects.filter(is_active=True, parent__isnull=True).prefetch_related("children")
    )


def overdue_now(now: datetime | None = None) -> QuerySet:
    now = now or timezone.now()
    return Case.objects.filter(state__in=OPEN_STATES, resolve_due__lt=now)


__all__ = ["State"]
