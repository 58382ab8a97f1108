"""Matching pages: the demand list and its demands, and the provider's phone page (the resource
list is in views_providers.py, open calls and service records in views_calls.py; the helpers
here are shared). Views only orchestrate: parse what was typed (forms.py), guard through the
selectors (404 when out of scope), call a service, render. A service's ValidationError is
shown next to the field it names (status 200, nothing written); PermissionDenied is a 403; a
MatchConflict (the world moved on) is flashed and the page redirects back."""

from __future__ import annotations

from math import ceil

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from yiwang.org.models import Community, Grid, Street
from yiwang.org.permissions import MANAGE_MATCHING, has_permission
from yiwang.org.selectors import scope_for
from yiwang.registry.idcard import id_mask, phone_mask
from yiwang.registry.selectors import ResidentFilter, resident_access, resident_list

from . import selectors, services
from .errors import MatchConflict
from .forms import (
    errors_of,
    ids,
    int_or_none,
    local_datetime,
    number_text,
)
from .models import Demand, Provider
from .ranking import fmt_slot, rank

PAGE_SIZE = 30
STATUS_FILTERS = ("unmatched", "overdue", *Demand.Status.values)


def _htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _desk_only(actor) -> None:
    if not selectors.is_desk(actor):
        raise PermissionDenied


def _back(request, default: str) -> str:
    """The page a form came from (a `next` field on this site), else `default`."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return default


def _conflict(request, exc: MatchConflict, to: str):
    messages.error(request, str(exc))
    return redirect(to)


def _scope_nodes(actor) -> tuple[list, list, list]:
    """The streets, communities and grids an actor covers (for filters and service areas)."""
    scope = scope_for(actor)
    if scope.is_empty:
        return [], [], []
    if scope.everything:
        streets = Street.objects.all()
        communities = Community.objects.all()
    else:
        streets = Street.objects.filter(id__in=sorted(scope.street_ids))
        communities = Community.objects.filter(
            Q(id__in=sorted(scope.community_ids)) | Q(street_id__in=sorted(scope.street_ids))
        )
    grids = Grid.objects.filter(scope.grid_q(""))
    return (
        list(streets.order_by("code")),
        list(communities.order_by("code")),
        list(grids.order_by("code")),
    )


# -- the demand list --------------------------------------------------------------------------


@login_required
@require_GET
def demand_list(request):
    actor = request.user
    if not selectors.is_desk(actor):
        if selectors.provider_for_user(actor):
            return redirect("matching:me")
        raise PermissionDenied
    g = request.GET
    status = g.get("status", "")
    f = selectors.DemandFilter(
        status=status if status in STATUS_FILTERS else "",
        service_id=int_or_none(g.get("service")),
        street_id=int_or_none(g.get("street")),
        community_id=int_or_none(g.get("community")),
        q=g.get("q", "").strip()[:40],
    )
    page = int_or_none(g.get("page")) or 1
    rows, total = selectors.demand_list(actor=actor, f=f, page=page, per_page=PAGE_SIZE)
    total_pages = max(1, ceil(total / PAGE_SIZE))
    counts = selectors.demand_counts(actor=actor)
    streets, communities, _grids = _scope_nodes(actor)
    context = {
        "f": f,
        "rows": rows,
        "total": total,
        "page": page,
        "pages": total_pages,
        "counts": counts,
        "chips": [
            ("unmatched", _("未匹配"), counts.get("unmatched", 0)),
            ("overdue", _("已超期"), counts.get("overdue", 0)),
            ("matched", _("已接单"), counts.get("matched", 0)),
            ("done", _("已完成"), counts.get("done", 0)),
        ],
        "statuses": [("unmatched", _("未匹配")), ("overdue", _("已超期")), *Demand.Status.choices],
        "services": selectors.service_list(),
        "streets": streets if len(streets) > 1 else [],
        "communities": communities if len(communities) > 1 else [],
        "can_post": has_permission(actor, MANAGE_MATCHING),
    }
    if _htmx(request):
        return render(request, "matching/_demand_results.html", context)
    return render(request, "matching/demand_list.html", context)


DEMAND_FIELDS = (
    "service",
    "resident",
    "window_start",
    "window_end",
    "urgency",
    "channel",
    "description",
)


def _resident_card(resident) -> dict:
    return {
        "id": resident.id,
        "name": resident.name,
        "id_masked": id_mask(resident.id_number),
        "address": resident.address,
    }


@login_required
def demand_new(request):
    actor = request.user
    if not has_permission(actor, MANAGE_MATCHING):
        raise PermissionDenied
    post = request.method == "POST"
    data = request.POST if post else request.GET
    context = {
        "services": selectors.service_list(),
        "urgencies": Demand.Urgency.choices,
        "channels": Demand.Channel.choices,
        "data": data,
        "auto_next": data.get("auto_next") == "on" if post else True,
        "errors": {},
        "choices": [],
        "resident": None,
    }
    if not post:
        resident_id = int_or_none(data.get("resident"))
        if resident_id:
            context["resident"] = _resident_card(resident_access(actor=actor, id=resident_id))
        return render(request, "matching/demand_new.html", context)

    errors: dict[str, list[str]] = {}
    resident = None
    resident_id = int_or_none(data.get("resident"))
    who = data.get("who", "").strip()[:40]
    if resident_id:
        try:
            resident = resident_access(actor=actor, id=resident_id)
        except Http404:
            errors["resident"] = [_("找不到该居民,或其不在您的管辖范围")]
    elif who:
        found, total = resident_list(
            actor=actor, f=ResidentFilter(q=who), purpose="visit", limit=20, channel="web"
        )
        if not found:
            errors["resident"] = [_("未找到“%(q)s”,请核对姓名或身份证号") % {"q": who}]
        elif total == 1:
            resident = found[0]
        else:
            context["choices"] = [_resident_card(r) for r in found]
            errors["resident"] = [_("找到 %(n)s 位居民,请选择一位") % {"n": total}]
    else:
        errors["resident"] = [_("请填写服务对象的姓名或身份证号")]
    if resident is not None:
        context["resident"] = _resident_card(resident)

    service_id = int_or_none(data.get("service"))
    service = selectors.service_list().filter(id=service_id).first() if service_id else None
    if service is None:
        errors["service"] = [_("请选择服务项目")]
    window = {}
    for key in ("window_start", "window_end"):
        try:
            window[key] = local_datetime(data.get(key), key)
        except ValidationError as exc:
            errors.update(errors_of(exc))
    if not errors:
        try:
            demand = services.demand_post(
                actor=actor,
                service=service,
                resident=resident,
                description=data.get("description", ""),
                urgency=data.get("urgency") or Demand.Urgency.NORMAL,
                channel=data.get("channel") or Demand.Channel.GRID_WORKER,
                source_ref=data.get("source_ref", "")[:40],
                auto_next=data.get("auto_next") == "on",
                **window,
            )
        except ValidationError as exc:
            errors = errors_of(exc, DEMAND_FIELDS)
        else:
            messages.success(request, _("已发布需求 %(n)s") % {"n": demand.number})
            return redirect("matching:demand_detail", demand.id)
    context["errors"] = errors
    return render(request, "matching/demand_new.html", context)


def _demand_page(request, demand: Demand, *, errors=None, form: str = ""):
    """The demand detail; on a refused form, that form's errors next to its fields."""
    actor = request.user
    now = timezone.now()
    ranking = None
    if demand.status in (Demand.Status.OPEN, Demand.Status.OFFERED):
        ranking = rank(demand)
    offers = list(demand.offers.select_related("provider").order_by("id"))
    resident = demand.resident
    context = {
        "d": demand,
        "overdue": demand.is_live and demand.window_end < now,
        "ranking": ranking,
        "offers": offers,
        "offered_ids": {o.provider_id for o in offers},
        "can_manage": has_permission(actor, MANAGE_MATCHING),
        "phone": phone_mask(resident.phones[0]) if resident and resident.phones else "",
        "errors": errors or {},
        "form": form,
        "data": request.POST if errors else {},
        "ratings": range(1, 6),
    }
    return render(request, "matching/demand_detail.html", context)


@login_required
@require_GET
def demand_detail(request, demand_id: int):
    demand = selectors.demand_view(actor=request.user, id=demand_id)
    return _demand_page(request, demand)


def _ranked_providers(demand: Demand, wanted: list[int]) -> list[Provider]:
    """The providers picked on the page, kept only if the ranking of this (guarded) demand
    lists them: the ranking is the scope of whom a demand can be offered to."""
    allowed = {c.provider_id for c in rank(demand, limit=10_000).candidates}
    return list(Provider.objects.filter(id__in=sorted(set(wanted) & allowed)))


@login_required
@require_POST
def demand_offer(request, demand_id: int):
    demand = selectors.demand_access(actor=request.user, id=demand_id)
    to = reverse("matching:demand_detail", args=[demand.id])
    providers = _ranked_providers(demand, ids(request.POST.getlist("providers")))
    try:
        offers = services.demand_offer(actor=request.user, demand=demand, providers=providers)
    except ValidationError as exc:
        return _demand_page(request, demand, errors=errors_of(exc, ("providers",)), form="offer")
    except MatchConflict as exc:
        return _conflict(request, exc, to)
    messages.success(request, _("已派单给 %(n)s 个服务方,先接单者得") % {"n": len(offers)})
    return redirect(to)


@login_required
@require_POST
def demand_complete(request, demand_id: int):
    demand = selectors.demand_access(actor=request.user, id=demand_id)
    to = reverse("matching:demand_detail", args=[demand.id])
    try:
        services.demand_complete(
            actor=request.user,
            demand=demand,
            note=request.POST.get("note", ""),
            hours=number_text(request.POST.get("hours"), "hours"),
            photo=request.FILES.get("photo"),
        )
    except ValidationError as exc:
        errors = errors_of(exc, ("note", "hours", "photo"))
        return _demand_page(request, demand, errors=errors, form="complete")
    except MatchConflict as exc:
        return _conflict(request, exc, to)
    messages.success(request, _("已登记服务完成"))
    return redirect(to)


@login_required
@require_POST
def demand_rate(request, demand_id: int):
    demand = selectors.demand_access(actor=request.user, id=demand_id)
    to = reverse("matching:demand_detail", args=[demand.id])
    try:
        services.demand_rate(
            actor=request.user,
            demand=demand,
            rating=request.POST.get("rating"),
            note=request.POST.get("rating_note", ""),
        )
    except ValidationError as exc:
        errors = errors_of(exc, ("rating", "rating_note"))
        return _demand_page(request, demand, errors=errors, form="rate")
    except MatchConflict as exc:
        return _conflict(request, exc, to)
    messages.success(request, _("已记录评价"))
    return redirect(to)


@login_required
@require_POST
def demand_cancel(request, demand_id: int):
    demand = selectors.demand_access(actor=request.user, id=demand_id)
    to = reverse("matching:demand_detail", args=[demand.id])
    try:
        services.demand_cancel(
            actor=request.user, demand=demand, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        return _demand_page(request, demand, errors=errors_of(exc, ("reason",)), form="cancel")
    except MatchConflict as exc:
        return _conflict(request, exc, to)
    messages.success(request, _("已取消需求"))
    return redirect(to)


# -- the provider's phone page ----------------------------------------------------------------


def _slots_text(provider: Provider) -> str:
    return "; ".join(fmt_slot(*s) for s in provider.slots or [])


def _me_page(request, *, errors=None, demand_id=None, provider_id=None):
    data = selectors.offers_for_provider(actor=request.user)
    errors = errors or {}
    schedule = [
        {
            "d": d,
            "info": info,
            "errors": errors if d.id == demand_id else {},
            "data": request.POST if d.id == demand_id else {},
        }
        for d, info in data["matched"]
    ]
    providers = [
        {
            "p": p,
            "slots": request.POST.get("slots", "") if p.id == provider_id else _slots_text(p),
            "errors": errors if p.id == provider_id else {},
        }
        for p in data["providers"]
    ]
    context = {
        "providers": providers,
        "pending": data["pending"],
        "schedule": schedule,
        "done": data["done"],
    }
    return render(request, "matching/me.html", context)


@login_required
@require_GET
def me(request):
    return _me_page(request)


@login_required
@require_POST
def offer_accept(request, offer_id: int):
    offer = selectors.offer_for_provider(actor=request.user, id=offer_id)
    to = _back(request, reverse("matching:me"))
    try:
        demand = services.offer_accept(actor=request.user, offer=offer)
    except MatchConflict as exc:
        return _conflict(request, exc, to)
    messages.success(request, _("已接单 %(n)s,请按约定时间上门服务") % {"n": demand.number})
    return redirect(to)


@login_required
@require_POST
def offer_decline(request, offer_id: int):
    offer = selectors.offer_for_provider(actor=request.user, id=offer_id)
    to = _back(request, reverse("matching:me"))
    try:
        services.offer_decline(
            actor=request.user, offer=offer, reason=request.POST.get("reason", "")
        )
    except MatchConflict as exc:
        return _conflict(request, exc, to)
    messages.success(request, _("已婉拒,感谢您的答复"))
    return redirect(to)


@login_required
@require_POST
def me_complete(request, demand_id: int):
    demand = selectors.provider_demand(actor=request.user, id=demand_id)
    try:
        services.demand_complete(
            actor=request.user,
            demand=demand,
            note=request.POST.get("note", ""),
            hours=number_text(request.POST.get("hours"), "hours"),
            photo=request.FILES.get("photo"),
        )
    except ValidationError as exc:
        errors = errors_of(exc, ("note", "hours", "photo"))
        return _me_page(request, errors=errors, demand_id=demand.id)
    except MatchConflict as exc:
        return _conflict(request, exc, reverse("matching:me"))
    messages.success(request, _("已登记服务完成,辛苦了"))
    return redirect("matching:me")


@login_required
@require_POST
def me_slots(request, provider_id: int):
    provider = selectors.provider_access(actor=request.user, id=provider_id)
    try:
        services.provider_set_slots(
            actor=request.user, provider=provider, slots=request.POST.get("slots", "")
        )
    except ValidationError as exc:
        return _me_page(request, errors=errors_of(exc, ("slots",)), provider_id=provider.id)
    messages.success(request, _("已更新服务时段"))
    return redirect("matching:me")
