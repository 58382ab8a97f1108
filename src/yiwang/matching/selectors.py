"""Reads of the resource list, the demand list, offers, open calls and service records, always
scoped to what the actor may see. Demands carry people's data: desk staff see the demands of
their part of the tree (a department sees none); a provider sees only demands offered to it,
with the recipient's name masked and no phone until it has accepted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When
from django.http import Http404
from django.utils import timezone

from yiwang.org.selectors import Scope, scope_for
from yiwang.registry.idcard import phone_mask
from yiwang.registry.privacy import access_log_write
from yiwang.registry.selectors import registry_scope

from .models import (
    Application,
    Demand,
    Offer,
    OpenCall,
    Partner,
    Provider,
    ProviderArea,
    Service,
    ServiceRecord,
)


def service_list(*, active_only: bool = True) -> QuerySet:
    qs = Service.objects.all()
    return qs.filter(is_active=True) if active_only else qs


def _tree_scope(actor) -> Scope:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return Scope()
    return registry_scope(actor)[0]


def demand_scope_q(actor) -> Q:
    scope = _tree_scope(actor)
    if scope.everything:
        return Q()
    q = Q(pk__in=[])
    if scope.street_ids:
        q |= Q(street_id__in=sorted(scope.street_ids))
    if scope.community_ids:
        q |= Q(community_id__in=sorted(scope.community_ids))
    if scope.grid_ids:
        q |= Q(grid_id__in=sorted(scope.grid_ids))
    return q


def is_desk(actor) -> bool:
    return not _tree_scope(actor).is_empty


@dataclass
class DemandFilter:
    status: str = ""  # a Demand.Status, "unmatched" (open or offered) or "overdue"
    service_id: int | None = None
    street_id: int | None = None
    community_id: int | None = None
    grid_id: int | None = None
    resident_id: int | None = None
    q: str = ""


def demand_queryset(*, actor, f: DemandFilter | None = None, now=None) -> QuerySet:
    """The demand list, unmatched and overdue first: overdue (a live demand past its window),
    then open, offered, matched, done, cancelled; urgent before normal; soonest first."""
    f = f or DemandFilter()
    now = now or timezone.now()
    qs = Demand.objects.filter(demand_scope_q(actor))
    live = [Demand.Status.OPEN, Demand.Status.OFFERED, Demand.Status.MATCHED]
    if f.status == "unmatched":
        qs = qs.filter(status__in=[Demand.Status.OPEN, Demand.Status.OFFERED])
    elif f.status == "overdue":
        qs = qs.filter(status__in=live, window_end__lt=now)
    elif f.status in Demand.Status.values:
        qs = qs.filter(status=f.status)
    for key in ("service_id", "street_id", "community_id", "grid_id", "resident_id"):
        value = getattr(f, key)
        if value:
            qs = qs.filter(**{key: value})
    if f.q:
        qs = qs.filter(Q(number__icontains=f.q) | Q(resident__name__startswith=f.q))
    order = Case(
        When(status__in=live, window_end__lt=now, then=Value(0)),
        When(status=Demand.Status.OPEN, then=Value(1)),
        When(status=Demand.Status.OFFERED, then=Value(2)),
        When(status=Demand.Status.MATCHED, then=Value(3)),
        When(status=Demand.Status.DONE, then=Value(4)),
        default=Value(5),
        output_field=IntegerField(),
    )
    urgent = Case(
        When(urgency=Demand.Urgency.URGENT, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return (
        qs.select_related("service", "resident", "provider", "grid", "community")
        .annotate(rank_order=order, urgent_order=urgent)
        .order_by("rank_order", "urgent_order", "window_start", "id")
    )


def demand_list(
    *,
    actor,
    f: DemandFilter | None = None,
    page: int = 1,
    per_page: int = 50,
    channel: str = "web",
    now=None,
) -> tuple[list[Demand], int]:
    """One page of the demand list; logs the read (names of people in need are personal)."""
    qs = demand_queryset(actor=actor, f=f, now=now)
    total = qs.count()
    page = max(1, page)
    rows = list(qs[(page - 1) * per_page : page * per_page])
    if rows:
        access_log_write(
            actor=actor,
            action="list",
            purpose="visit",
            filter={k: v for k, v in vars(f or DemandFilter()).items()} | {"list": "demands"},
            record_count=len(rows),
            channel=channel,
        )
    return rows, total


def demand_counts(*, actor, now=None) -> dict[str, int]:
    now = now or timezone.now()
    qs = Demand.objects.filter(demand_scope_q(actor))
    live = [Demand.Status.OPEN, Demand.Status.OFFERED, Demand.Status.MATCHED]
    out = dict(qs.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    out["overdue"] = qs.filter(status__in=live, window_end__lt=now).count()
    out["unmatched"] = out.get("open", 0) + out.get("offered", 0)
    return out


def demand_access(*, actor, id) -> Demand:
    """One demand for desk staff in scope: 404 whether absent or out of scope."""
    try:
        return (
            Demand.objects.filter(demand_scope_q(actor))
            .select_related("service", "resident", "provider", "grid", "community", "street")
            .get(id=id)
        )
    except (Demand.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def demand_view(*, actor, id, channel: str = "web") -> Demand:
    demand = demand_access(actor=actor, id=id)
    if demand.resident_id:
        access_log_write(
            actor=actor,
            action="view",
            purpose="visit",
            obj=demand.resident,
            record_count=1,
            channel=channel,
        )
    return demand


def mask_name(name: str) -> str:
    return (name[:1] + "*" * max(1, len(name) - 1)) if name else ""


def demand_for_provider(demand: Demand, *, accepted: bool) -> dict:
    """What a provider sees: enough to decide and to go, nothing more. Before accepting: the
    service, the window, the community and building, the recipient's masked name and care tags;
    after: the full name, address and phone."""
    resident = demand.resident
    tags = [t.name for t in resident.tags.all()] if resident else []
    out = {
        "id": demand.id,
        "number": demand.number,
        "service": demand.service.name,
        "description": demand.description,
        "window_start": demand.window_start,
        "window_end": demand.window_end,
        "urgency": demand.urgency,
        "urgency_label": demand.get_urgency_display(),
        "community": demand.community.name,
        "grid": demand.grid.name,
        "tags": tags,
        "status": demand.status,
        "status_label": demand.get_status_display(),
        "lat": demand.lat,
        "lng": demand.lng,
    }
    if resident is not None:
        out["recipient"] = resident.name if accepted else mask_name(resident.name)
        phones = resident.phones or []
        out["phone"] = (
            (phones[0] if phones else "") if accepted else (phone_mask(phones[0]) if phones else "")
        )
    else:
        who = demand.place or demand.organization
        out["recipient"] = who.name if who else ""
        out["phone"] = ""
    building = demand.address
    if not accepted and building:
        # The building, not the room, until the provider has taken it.
        out["address"] = building.split("号")[0] + "号" if "号" in building else building
    else:
        out["address"] = building
    return out


def provider_for_user(actor) -> list[Provider]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return []
    return list(Provider.objects.filter(user=actor, archived_at__isnull=True))


def offers_for_provider(*, actor, now=None) -> dict[str, list]:
    """A provider's phone page: pending offers, accepted and upcoming work, recent done work."""
    now = now or timezone.now()
    providers = provider_for_user(actor)
    if not providers:
        return {"providers": [], "pending": [], "matched": [], "done": []}
    ids = [p.id for p in providers]
    pending = (
        Offer.objects.filter(provider_id__in=ids, status=Offer.Status.PENDING, expires_at__gt=now)
        .select_related("demand__service", "demand__resident", "demand__community", "demand__grid")
        .prefetch_related("demand__resident__tags")
        .order_by("expires_at")
    )
    matched = (
        Demand.objects.filter(provider_id__in=ids, status=Demand.Status.MATCHED)
        .select_related("service", "resident", "community", "grid")
        .prefetch_related("resident__tags")
        .order_by("window_start")
    )
    done = (
        Demand.objects.filter(provider_id__in=ids, status=Demand.Status.DONE)
        .select_related("service", "resident", "community", "grid")
        .prefetch_related("resident__tags")
        .order_by("-completed_at")[:20]
    )
    return {
        "providers": providers,
        "pending": [(o, demand_for_provider(o.demand, accepted=False)) for o in pending],
        "matched": [(d, demand_for_provider(d, accepted=True)) for d in matched],
        "done": [(d, demand_for_provider(d, accepted=True)) for d in done],
    }


def offer_for_provider(*, actor, id) -> Offer:
    """An offer the actor may answer: made to one of its providers (or, for desk staff, one in
    their scope)."""
    try:
        offer = Offer.objects.select_related("provider", "demand").get(id=id)
    except (Offer.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if offer.provider.user_id == getattr(actor, "id", None):
        return offer
    if Demand.objects.filter(demand_scope_q(actor), id=offer.demand_id).exists():
        return offer
    raise Http404


def provider_demand(*, actor, id) -> Demand:
    """A demand matched to one of the actor's providers (to complete it from the phone)."""
    try:
        demand = Demand.objects.select_related("service", "provider", "resident").get(id=id)
    except (Demand.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if demand.provider is not None and demand.provider.user_id == getattr(actor, "id", None):
        return demand
    return demand_access(actor=actor, id=id)


# ---------------------------------------------------------------- providers


def provider_scope_q(actor) -> Q:
    """Providers a desk sees: those living or serving in its part of the tree, and those that
    serve by radius only (district-wide teams)."""
    scope = scope_for(actor)
    if scope.everything:
        return Q()
    if scope.is_empty:
        return Q(pk__in=[])
    area = Q(pk__in=[])
    if scope.street_ids:
        streets = sorted(scope.street_ids)
        area |= (
            Q(street_id__in=streets)
            | Q(community__street_id__in=streets)
            | Q(grid__street_id__in=streets)
        )
    if scope.community_ids:
        communities = sorted(scope.community_ids)
        area |= Q(community_id__in=communities) | Q(grid__community_id__in=communities)
    if scope.grid_ids:
        area |= Q(grid_id__in=sorted(scope.grid_ids))
    return (
        scope.grid_q("home_grid")
        | Q(id__in=ProviderArea.objects.filter(area).values("provider_id"))
        | Q(home_grid__isnull=True, radius_m__gt=0)
    )


@dataclass
class ProviderFilter:
    kind: str = ""
    service_id: int | None = None
    verification: str = ""
    q: str = ""
    community_id: int | None = None
    street_id: int | None = None
    archived: bool = False


def provider_list(*, actor, f: ProviderFilter | None = None) -> QuerySet:
    f = f or ProviderFilter()
    qs = Provider.objects.filter(provider_scope_q(actor))
    qs = qs.filter(archived_at__isnull=not f.archived)
    if f.kind in Provider.Kind.values:
        qs = qs.filter(kind=f.kind)
    if f.verification in Provider.Verification.values:
        qs = qs.filter(verification=f.verification)
    if f.service_id:
        qs = qs.filter(services=f.service_id)
    if f.q:
        qs = qs.filter(name__icontains=f.q)
    if f.community_id:
        qs = qs.filter(
            Q(home_grid__community_id=f.community_id)
            | Q(
                id__in=ProviderArea.objects.filter(
                    Q(community_id=f.community_id) | Q(grid__community_id=f.community_id)
                ).values("provider_id")
            )
        )
    if f.street_id:
        qs = qs.filter(
            Q(home_grid__street_id=f.street_id)
            | Q(
                id__in=ProviderArea.objects.filter(
                    Q(street_id=f.street_id)
                    | Q(community__street_id=f.street_id)
                    | Q(grid__street_id=f.street_id)
                ).values("provider_id")
            )
        )
    # Pending ones first (they wait for a desk), then busiest.
    pending_first = Case(
        When(verification=Provider.Verification.PENDING, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return (
        qs.select_related("home_grid", "organization")
        .prefetch_related("services", "areas__street", "areas__community", "areas__grid")
        .annotate(pending_order=pending_first)
        .order_by("pending_order", "-completed_count", "id")
    )


def provider_access(*, actor, id) -> Provider:
    try:
        provider = Provider.objects.select_related("home_grid", "organization", "user").get(id=id)
    except (Provider.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if provider.user_id and provider.user_id == getattr(actor, "id", None):
        return provider
    if Provider.objects.filter(provider_scope_q(actor), id=provider.id).exists():
        return provider
    raise Http404


def provider_areas_label(provider: Provider) -> list[str]:
    out = []
    # Lists prefetch the areas with their nodes (provider_list); one provider reads them here.
    for area in provider.areas.all():
        node = area.grid or area.community or area.street
        out.append(node.name)
    if provider.radius_m:
        out.append(f"{provider.radius_m / 1000:.1f} km")
    return out


# ---------------------------------------------------------------- open calls and partners


PUBLIC_CALL_STATES = [
    OpenCall.Status.PUBLISHED,
    OpenCall.Status.AWARDED,
    OpenCall.Status.DELIVERED,
    OpenCall.Status.EVALUATED,
]


def call_list(*, actor=None, status: str = "", mine: bool = False) -> QuerySet:
    """Published calls are public; drafts and cancelled ones only for their units."""
    from .services import managed_calls_q

    qs = OpenCall.objects.select_related("department", "street", "community")
    if status in OpenCall.Status.values:
        qs = qs.filter(status=status)
    public = qs.filter(status__in=PUBLIC_CALL_STATES)
    if actor is None or not getattr(actor, "is_authenticated", False) or not mine:
        return public.annotate(n_applications=Count("applications"))
    return qs.filter(Q(status__in=PUBLIC_CALL_STATES) | managed_calls_q(actor)).annotate(
        n_applications=Count("applications")
    )


def call_access(*, actor, id) -> OpenCall:
    from .services import _manages_call

    try:
        call = OpenCall.objects.select_related("department", "street", "community").get(id=id)
    except (OpenCall.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if call.status in PUBLIC_CALL_STATES:
        return call
    if (
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and _manages_call(actor, call)
    ):
        return call
    raise Http404


def call_manages(*, actor, call: OpenCall) -> bool:
    from yiwang.org.permissions import PUBLISH_CALLS, has_permission

    from .services import _manages_call

    return bool(
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and has_permission(actor, PUBLISH_CALLS)
        and _manages_call(actor, call)
    )


def partners_of(actor) -> list[Partner]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return []
    return list(
        Partner.objects.filter(members=actor, archived_at__isnull=True).select_related(
            "organization"
        )
    )


def partner_list() -> list[dict]:
    """Partners with their record: calls taken, delivered, mean score (public)."""
    rows = (
        Partner.objects.filter(archived_at__isnull=True)
        .select_related("organization")
        .annotate(
            chosen=Count("applications", filter=Q(applications__status=Application.Status.CHOSEN)),
            evaluated=Count("applications", filter=Q(applications__evaluated_at__isnull=False)),
            score_sum=Sum("applications__score"),
        )
        .order_by("-chosen", "id")
    )
    out = []
    for p in rows:
        out.append(
            {
                "partner": p,
                "chosen": p.chosen,
                "evaluated": p.evaluated,
                "score": round(p.score_sum / p.evaluated, 1) if p.evaluated else None,
            }
        )
    return out


def delivered_list(limit: int = 50) -> QuerySet:
    """Who delivered what: chosen applications of delivered or evaluated calls (public)."""
    return (
        Application.objects.filter(
            status=Application.Status.CHOSEN,
            call__status__in=[OpenCall.Status.DELIVERED, OpenCall.Status.EVALUATED],
        )
        .select_related("call", "partner__organization")
        .order_by("-call__id")[:limit]
    )


# ---------------------------------------------------------------- service records


RECORD_GROUPS = {
    "user": ("user_id", "user__username", "user__first_name"),
    "provider": ("provider_id", "provider__name", None),
    "department": ("department_id", "department__name", None),
    "organization": ("organization_id", "organization__name", None),
}


def _local_range(start: date, end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    a = timezone.make_aware(datetime.combine(start, time.min), tz)
    b = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz)
    return a, b


def _records(actor, start: date, end: date, kind: str = "") -> QuerySet:
    """Service records of a period, scoped by where the work was done (everyone also sees
    their own record, and a provider account its provider's)."""
    a, b = _local_range(start, end)
    qs = ServiceRecord.objects.filter(at__gte=a, at__lt=b)
    scope = _tree_scope(actor)
    if not scope.everything:
        q = Q(pk__in=[])
        if scope.street_ids:
            q |= Q(street_id__in=sorted(scope.street_ids))
        if scope.community_ids:
            q |= Q(community_id__in=sorted(scope.community_ids))
        if scope.grid_ids:
            q |= Q(grid_id__in=sorted(scope.grid_ids))
        if actor is not None and getattr(actor, "is_authenticated", False):
            q |= Q(user_id=actor.id) | Q(provider__user_id=actor.id)
        qs = qs.filter(q)
    if kind in ServiceRecord.Kind.values:
        qs = qs.filter(kind=kind)
    return qs


def service_record_summary(
    *, actor, by: str, start: date, end: date, kind: str = "", limit: int = 100
) -> list[dict]:
    """Who did how much for how many: per person, provider, department or organisation over a
    period — records, people and families helped (distinct), hours."""
    if by not in RECORD_GROUPS:
        raise ValueError(by)
    key, label, extra = RECORD_GROUPS[by]
    qs = _records(actor, start, end, kind).exclude(**{key: None})
    fields = [key, label] + ([extra] if extra else [])
    rows = (
        qs.values(*fields)
        .annotate(
            records=Count("id"),
            people=Count("resident_id", distinct=True),
            families=Count("household_id", distinct=True),
            hours=Sum("hours"),
        )
        .order_by("-records", key)[:limit]
    )
    out = []
    for r in rows:
        name = (r.get(extra) or r[label]) if extra else r[label]
        out.append(
            {
                "id": r[key],
                "name": name or "",
                "records": r["records"],
                "people": r["people"],
                "families": r["families"],
                "hours": float(r["hours"] or 0),
            }
        )
    return out


def service_record_totals(*, actor, start: date, end: date, kind: str = "") -> dict:
    """The period's totals with people and families counted once however many helped them
    ("服务 130 余人、40 余户")."""
    t = _records(actor, start, end, kind).aggregate(
        records=Count("id"),
        people=Count("resident_id", distinct=True),
        families=Count("household_id", distinct=True),
        hours=Sum("hours"),
    )
    return {
        "records": t["records"],
        "people": t["people"],
        "families": t["families"],
        "hours": round(float(t["hours"] or 0), 1),
    }


def resident_card_section(actor, resident) -> dict | None:
    """The resident card's "服务需求" section: this person's demands the actor may see, and a
    button to post one for them."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from yiwang.org.permissions import MANAGE_MATCHING, has_permission

    demands = list(
        Demand.objects.filter(demand_scope_q(actor), resident_id=resident.id)
        .select_related("service", "provider")
        .order_by("-id")[:10]
    )
    can_post = has_permission(actor, MANAGE_MATCHING) and resident.grid_id is not None
    if not demands and not can_post:
        return None
    return {
        "key": "demands",
        "title": _("服务需求"),
        "items": [
            {
                "label": f"{d.number} {d.service.name}",
                "url": reverse("matching:demand_detail", args=[d.id]),
                "meta": " · ".join(
                    x
                    for x in (
                        str(d.get_status_display()),
                        f"{timezone.localtime(d.window_start):%Y-%m-%d}",
                        d.provider.name if d.provider else "",
                    )
                    if x
                ),
            }
            for d in demands
        ],
        "actions": (
            [
                {
                    "label": _("为其发布需求"),
                    "url": reverse("matching:demand_new") + f"?resident={resident.id}",
                }
            ]
            if can_post
            else []
        ),
        "empty": _("暂无服务需求"),
    }


def demand_match_rate(matched: int, total: int) -> float | None:
    """需求匹配率: the share of demands (cancelled ones left out) that a provider took."""
    return round(matched / total, 4) if total else None


def demand_match_counts(start: datetime, end: datetime) -> dict[int, tuple[int, int]]:
    """Per grid, demands posted in [start, end) and not cancelled: (taken by a provider, all);
    read by the star-grid rubric."""
    rows = (
        Demand.objects.filter(created_at__gte=start, created_at__lt=end)
        .exclude(status=Demand.Status.CANCELLED)
        .values("grid_id")
        .annotate(
            total=Count("id"),
            matched=Count("id", filter=Q(status__in=[Demand.Status.MATCHED, Demand.Status.DONE])),
        )
        .order_by()
    )
    return {r["grid_id"]: (r["matched"], r["total"]) for r in rows}
