"""The matching API at /api/v1/matching/: parse, guard, call a service or selector, shape.
Conflicts (an offer taken by someone else, a call past its deadline) answer 409."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from yiwang.registry.selectors import resident_access

from . import selectors, services
from .models import Application, Demand, Milestone, Provider, Service
from .ranking import rank

router = Router(tags=["matching"])


def _service(service_id: int) -> Service:
    try:
        return Service.objects.get(id=service_id, is_active=True)
    except Service.DoesNotExist:
        raise ValidationError({"service_id": [_("未知的服务项目")]}) from None


def service_out(s: Service) -> dict:
    return {"id": s.id, "code": s.code, "name": s.name, "default_hours": float(s.default_hours)}


def provider_out(p: Provider) -> dict:
    return {
        "id": p.id,
        "kind": p.kind,
        "kind_label": p.get_kind_display(),
        "name": p.name,
        "verification": p.verification,
        "services": [s.name for s in p.services.all()],
        "home_grid_id": p.home_grid_id,
        "radius_m": p.radius_m,
        "capacity": p.capacity,
        "active_count": p.active_count,
        "completed_count": p.completed_count,
        "hours_total": float(p.hours_total),
        "rating": p.rating,
        "rating_count": p.rating_count,
        "slots": p.slots,
    }


def demand_out(d: Demand) -> dict:
    return {
        "id": d.id,
        "number": d.number,
        "service": d.service.name,
        "service_id": d.service_id,
        "status": d.status,
        "status_label": d.get_status_display(),
        "urgency": d.urgency,
        "channel": d.channel,
        "resident_id": d.resident_id,
        "recipient": d.resident.name if d.resident else "",
        "description": d.description,
        "window_start": d.window_start,
        "window_end": d.window_end,
        "grid_id": d.grid_id,
        "community_id": d.community_id,
        "street_id": d.street_id,
        "address": d.address,
        "provider_id": d.provider_id,
        "provider": d.provider.name if d.provider else None,
        "unmatched_reason": d.unmatched_reason,
        "matched_at": d.matched_at,
        "completed_at": d.completed_at,
        "hours": float(d.hours) if d.hours is not None else None,
        "rating": d.rating,
        "overdue": d.is_live and d.window_end < timezone.now(),
    }


# ---------------------------------------------------------------- catalogue and providers


@router.get("/services")
def service_list(request):
    return [service_out(s) for s in selectors.service_list()]


class ProviderQuery(Schema):
    kind: str = ""
    service_id: int | None = None
    verification: str = ""
    q: str = ""
    community_id: int | None = None
    street_id: int | None = None
    limit: int = 50
    offset: int = 0


@router.get("/providers")
def provider_list(request, query: Query[ProviderQuery]):
    f = selectors.ProviderFilter(
        **{k: v for k, v in query.dict().items() if k not in ("limit", "offset")}
    )
    qs = selectors.provider_list(actor=request.user, f=f)
    limit = max(1, min(query.limit, 200))
    return {
        "count": qs.count(),
        "items": [provider_out(p) for p in qs[query.offset : query.offset + limit]],
    }


class AreaIn(Schema):
    level: str  # street | community | grid
    id: int


class ProviderIn(Schema):
    kind: str = Provider.Kind.VOLUNTEER
    name: str
    service_ids: list[int]
    areas: list[AreaIn] = []
    home_grid_id: int | None = None
    lat: float | None = None
    lng: float | None = None
    radius_m: int = 0
    capacity: int = 3
    slots: str | list[list[int]] = []
    phone: str = ""
    username: str = ""
    notes: str = ""


@router.post("/providers", response={201: dict})
def provider_register(request, data: ProviderIn):
    from django.contrib.auth import get_user_model

    from yiwang.org.selectors import grid_access

    services_ = list(Service.objects.filter(id__in=data.service_ids, is_active=True))
    if len(services_) != len(set(data.service_ids)):
        raise ValidationError({"service_ids": [_("有未知的服务项目")]})
    user = None
    if data.username:
        user = get_user_model().objects.filter(username=data.username, is_active=True).first()
        if user is None:
            raise ValidationError({"username": [_("账号不存在")]})
    home = grid_access(actor=request.user, id=data.home_grid_id) if data.home_grid_id else None
    slots = services.slots_parse(data.slots) if isinstance(data.slots, str) else data.slots
    provider = services.provider_register(
        actor=request.user,
        kind=data.kind,
        name=data.name,
        services=services_,
        areas=[(a.level, a.id) for a in data.areas],
        home_grid=home,
        lat=data.lat,
        lng=data.lng,
        radius_m=data.radius_m,
        capacity=data.capacity,
        slots=slots,
        phone=data.phone,
        user=user,
        notes=data.notes,
    )
    return Status(201, provider_out(provider))


@router.get("/providers/{provider_id}")
def provider_detail(request, provider_id: int):
    p = selectors.provider_access(actor=request.user, id=provider_id)
    return provider_out(p) | {"areas": selectors.provider_areas_label(p)}


class VerifyIn(Schema):
    verification: str


@router.post("/providers/{provider_id}/verify")
def provider_verify(request, provider_id: int, data: VerifyIn):
    p = selectors.provider_access(actor=request.user, id=provider_id)
    return provider_out(
        services.provider_verify(actor=request.user, provider=p, verification=data.verification)
    )


class SlotsIn(Schema):
    slots: str | list[list[int]]


@router.put("/providers/{provider_id}/slots")
def provider_slots(request, provider_id: int, data: SlotsIn):
    p = selectors.provider_access(actor=request.user, id=provider_id)
    return provider_out(
        services.provider_set_slots(actor=request.user, provider=p, slots=data.slots)
    )


# ---------------------------------------------------------------- demands and offers


class DemandQuery(Schema):
    status: str = ""
    service_id: int | None = None
    street_id: int | None = None
    community_id: int | None = None
    grid_id: int | None = None
    resident_id: int | None = None
    q: str = ""
    page: int = 1


@router.get("/demands")
def demand_list(request, query: Query[DemandQuery]):
    f = selectors.DemandFilter(**{k: v for k, v in query.dict().items() if k != "page"})
    rows, total = selectors.demand_list(actor=request.user, f=f, page=query.page, channel="api")
    return {"count": total, "page": query.page, "items": [demand_out(d) for d in rows]}


class DemandIn(Schema):
    service_id: int
    resident_id: int
    window_start: datetime
    window_end: datetime
    urgency: str = Demand.Urgency.NORMAL
    channel: str = Demand.Channel.GRID_WORKER
    source_ref: str = ""
    description: str = ""
    auto_next: bool = True


@router.post("/demands", response={201: dict})
def demand_post(request, data: DemandIn):
    resident = resident_access(actor=request.user, id=data.resident_id)
    demand = services.demand_post(
        actor=request.user,
        service=_service(data.service_id),
        resident=resident,
        window_start=data.window_start,
        window_end=data.window_end,
        urgency=data.urgency,
        channel=data.channel,
        source_ref=data.source_ref,
        description=data.description,
        auto_next=data.auto_next,
    )
    return Status(201, demand_out(selectors.demand_access(actor=request.user, id=demand.id)))


@router.get("/demands/{demand_id}")
def demand_detail(request, demand_id: int):
    d = selectors.demand_view(actor=request.user, id=demand_id, channel="api")
    offers = [
        {
            "id": o.id,
            "provider_id": o.provider_id,
            "provider": o.provider.name,
            "status": o.status,
            "score": o.score,
            "reasons": o.reasons,
            "expires_at": o.expires_at,
        }
        for o in d.offers.select_related("provider")
    ]
    return demand_out(d) | {"offers": offers}


@router.get("/demands/{demand_id}/ranking")
def demand_ranking(request, demand_id: int, limit: int = 20):
    d = selectors.demand_access(actor=request.user, id=demand_id)
    ranking = rank(d, limit=max(1, min(limit, 100)))
    return {
        "considered": ranking.considered,
        "eligible": ranking.eligible,
        "reason": ranking.reason,
        "candidates": [c.as_dict() for c in ranking.candidates],
    }


class OfferIn(Schema):
    provider_ids: list[int]
    minutes: int | None = None


@router.post("/demands/{demand_id}/offers", response={201: list[dict]})
def demand_offer(request, demand_id: int, data: OfferIn):
    d = selectors.demand_access(actor=request.user, id=demand_id)
    providers = list(Provider.objects.filter(id__in=data.provider_ids))
    if len(providers) != len(set(data.provider_ids)):
        raise ValidationError({"provider_ids": [_("有不存在的服务方")]})
    if data.minutes is not None and not 5 <= data.minutes <= 7 * 24 * 60:
        raise ValidationError({"minutes": [_("答复期限须在 5 分钟到 7 天之间")]})
    offers = services.demand_offer(
        actor=request.user, demand=d, providers=providers, minutes=data.minutes
    )
    return Status(
        201,
        [{"id": o.id, "provider_id": o.provider_id, "expires_at": o.expires_at} for o in offers],
    )


@router.get("/me/offers")
def my_offers(request):
    page = selectors.offers_for_provider(actor=request.user)
    return {
        "providers": [provider_out(p) for p in page["providers"]],
        "pending": [
            shown | {"offer_id": o.id, "expires_at": o.expires_at} for o, shown in page["pending"]
        ],
        "matched": [shown for _d, shown in page["matched"]],
        "done": [shown for _d, shown in page["done"]],
    }


@router.post("/offers/{offer_id}/accept")
def offer_accept(request, offer_id: int):
    offer = selectors.offer_for_provider(actor=request.user, id=offer_id)
    d = services.offer_accept(actor=request.user, offer=offer)
    return {"demand_id": d.id, "status": d.status, "provider_id": d.provider_id}


class DeclineIn(Schema):
    reason: str = ""


@router.post("/offers/{offer_id}/decline")
def offer_decline(request, offer_id: int, data: DeclineIn):
    offer = selectors.offer_for_provider(actor=request.user, id=offer_id)
    o = services.offer_decline(actor=request.user, offer=offer, reason=data.reason)
    return {"offer_id": o.id, "status": o.status}


class CompleteIn(Schema):
    note: str = ""
    hours: Decimal | None = None


@router.post("/demands/{demand_id}/complete")
def demand_complete(request, demand_id: int, data: CompleteIn):
    d = selectors.provider_demand(actor=request.user, id=demand_id)
    d = services.demand_complete(actor=request.user, demand=d, note=data.note, hours=data.hours)
    return {"id": d.id, "status": d.status, "hours": float(d.hours)}


class RateIn(Schema):
    rating: int
    note: str = ""


@router.post("/demands/{demand_id}/rate")
def demand_rate(request, demand_id: int, data: RateIn):
    d = selectors.demand_access(actor=request.user, id=demand_id)
    d = services.demand_rate(actor=request.user, demand=d, rating=data.rating, note=data.note)
    return {"id": d.id, "rating": d.rating}


class CancelIn(Schema):
    reason: str


@router.post("/demands/{demand_id}/cancel")
def demand_cancel(request, demand_id: int, data: CancelIn):
    d = selectors.demand_access(actor=request.user, id=demand_id)
    d = services.demand_cancel(actor=request.user, demand=d, reason=data.reason)
    return {"id": d.id, "status": d.status}


# ---------------------------------------------------------------- open calls


def call_out(c) -> dict:
    return {
        "id": c.id,
        "number": c.number,
        "title": c.title,
        "description": c.description,
        "location": c.location,
        "unit": str(c.unit_label),
        "budget": float(c.budget) if c.budget is not None else None,
        "in_kind": c.in_kind,
        "criteria": c.criteria,
        "apply_by": c.apply_by,
        "deliver_by": c.deliver_by,
        "status": c.status,
        "status_label": c.get_status_display(),
    }


@router.get("/calls", auth=None)
def call_list(request, status: str = ""):
    return [call_out(c) for c in selectors.call_list(actor=None, status=status)[:200]]


@router.get("/calls/{call_id}", auth=None)
def call_detail(request, call_id: int):
    call = selectors.call_access(actor=request.user, id=call_id)
    out = call_out(call)
    if selectors.call_manages(actor=request.user, call=call):
        out["applications"] = [
            {
                "id": a.id,
                "partner": a.partner.organization.name,
                "proposal": a.proposal,
                "amount": float(a.amount) if a.amount is not None else None,
                "status": a.status,
                "score": a.score,
                "milestones": [
                    {
                        "id": m.id,
                        "title": m.title,
                        "due": m.due,
                        "submitted_at": m.submitted_at,
                        "accepted_at": m.accepted_at,
                    }
                    for m in a.milestones.all()
                ],
            }
            for a in call.applications.select_related("partner__organization").prefetch_related(
                "milestones"
            )
        ]
    return out


class CallIn(Schema):
    title: str
    description: str
    apply_by: datetime
    location: str = ""
    budget: Decimal | None = None
    in_kind: str = ""
    criteria: str = ""
    deliver_by: date | None = None
    publish: bool = False


@router.post("/calls", response={201: dict})
def call_create(request, data: CallIn):
    call = services.call_create(
        actor=request.user, **{k: v for k, v in data.dict().items() if k != "publish"}
    )
    if data.publish:
        call = services.call_publish(actor=request.user, call=call)
    return Status(201, call_out(call))


@router.post("/calls/{call_id}/publish")
def call_publish(request, call_id: int):
    call = selectors.call_access(actor=request.user, id=call_id)
    return call_out(services.call_publish(actor=request.user, call=call))


class ApplyIn(Schema):
    partner_id: int
    proposal: str
    amount: Decimal | None = None


@router.post("/calls/{call_id}/applications", response={201: dict})
def call_apply(request, call_id: int, data: ApplyIn):
    call = selectors.call_access(actor=request.user, id=call_id)
    partner = next(
        (p for p in selectors.partners_of(request.user) if p.id == data.partner_id), None
    )
    if partner is None:
        raise ValidationError({"partner_id": [_("您不是该合作单位的成员")]})
    a = services.call_apply(
        actor=request.user, call=call, partner=partner, proposal=data.proposal, amount=data.amount
    )
    return Status(201, {"id": a.id, "status": a.status})


class ChooseIn(Schema):
    application_ids: list[int]
    milestones: list[str] = []


@router.post("/calls/{call_id}/choose")
def call_choose(request, call_id: int, data: ChooseIn):
    call = selectors.call_access(actor=request.user, id=call_id)
    apps = list(call.applications.filter(id__in=data.application_ids))
    call = services.call_choose(
        actor=request.user,
        call=call,
        applications=apps,
        milestones=[(t, None) for t in data.milestones],
    )
    return call_out(call)


class EvidenceIn(Schema):
    evidence: str


@router.post("/milestones/{milestone_id}/submit")
def milestone_submit(request, milestone_id: int, data: EvidenceIn):
    m = get_object_or_404(Milestone.objects.select_related("application__call"), id=milestone_id)
    selectors.call_access(actor=request.user, id=m.application.call_id)
    m = services.milestone_submit(actor=request.user, milestone=m, evidence=data.evidence)
    return {"id": m.id, "submitted_at": m.submitted_at}


@router.post("/milestones/{milestone_id}/accept")
def milestone_accept(request, milestone_id: int):
    m = get_object_or_404(Milestone.objects.select_related("application__call"), id=milestone_id)
    selectors.call_access(actor=request.user, id=m.application.call_id)
    m = services.milestone_accept(actor=request.user, milestone=m)
    return {"id": m.id, "accepted_at": m.accepted_at}


class EvaluateIn(Schema):
    score: int
    note: str = ""


@router.post("/applications/{application_id}/evaluate")
def call_evaluate(request, application_id: int, data: EvaluateIn):
    a = get_object_or_404(Application.objects.select_related("call", "partner"), id=application_id)
    selectors.call_access(actor=request.user, id=a.call_id)
    a = services.call_evaluate(actor=request.user, application=a, score=data.score, note=data.note)
    return {"id": a.id, "score": a.score, "call_status": a.call.status}


# ---------------------------------------------------------------- service records


class RecordQuery(Schema):
    by: str = "user"
    start: date
    end: date
    kind: str = ""


@router.get("/records")
def records(request, query: Query[RecordQuery]):
    if query.by not in selectors.RECORD_GROUPS:
        raise ValidationError({"by": [_("须为 user、provider、department 或 organization")]})
    if query.end < query.start:
        raise ValidationError({"end": [_("结束日期早于开始日期")]})
    if (query.end - query.start).days > 366 * 5:
        raise ValidationError({"end": [_("时间跨度不能超过 5 年")]})
    return selectors.service_record_summary(
        actor=request.user, by=query.by, start=query.start, end=query.end, kind=query.kind
    )
