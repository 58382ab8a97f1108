"""Matching pages: the demand list and its demands, the provider's phone page, the resource
list, open calls (揭榜) and service records. Views only orchestrate: parse what was typed
(forms.py), guard through the selectors (404 when out of scope), call a service, render.
A service's ValidationError is shown next to the field it names (status 200, nothing
written); PermissionDenied is a 403; a MatchConflict (the world moved on) is flashed and the
page redirects back."""

from __future__ import annotations

import tempfile
from math import ceil
from pathlib import Path

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from yiwang.org.models import Community, Grid, Street
from yiwang.org.permissions import MANAGE_MATCHING, VERIFY_PROVIDERS, has_permission
from yiwang.org.selectors import scope_for
from yiwang.registry.idcard import id_mask, phone_mask
from yiwang.registry.selectors import ResidentFilter, resident_access, resident_list

from . import selectors, services
from .errors import MatchConflict
from .forms import (
    area_parse,
    area_value,
    errors_of,
    ids,
    int_or_none,
    local_date,
    local_datetime,
    milestone_lines,
)
from .models import Application, Demand, Milestone, OpenCall, Provider, ServiceRecord
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
            hours=request.POST.get("hours", ""),
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
            hours=request.POST.get("hours", ""),
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


# -- the resource list ------------------------------------------------------------------------


@login_required
@require_GET
def provider_list(request):
    actor = request.user
    _desk_only(actor)
    g = request.GET
    f = selectors.ProviderFilter(
        kind=g.get("kind", ""),
        service_id=int_or_none(g.get("service")),
        verification=g.get("verification", ""),
        q=g.get("q", "").strip()[:40],
        community_id=int_or_none(g.get("community")),
        street_id=int_or_none(g.get("street")),
    )
    page = Paginator(selectors.provider_list(actor=actor, f=f), PAGE_SIZE).get_page(g.get("page"))
    streets, communities, _grids = _scope_nodes(actor)
    context = {
        "f": f,
        "page": page,
        "rows": [{"p": p, "areas": selectors.provider_areas_label(p)} for p in page],
        "kinds": Provider.Kind.choices,
        "verifications": Provider.Verification.choices,
        "services": selectors.service_list(),
        "streets": streets if len(streets) > 1 else [],
        "communities": communities if len(communities) > 1 else [],
        "can_register": has_permission(actor, MANAGE_MATCHING),
    }
    if _htmx(request):
        return render(request, "matching/_provider_results.html", context)
    return render(request, "matching/provider_list.html", context)


PROVIDER_FIELDS = (
    "kind",
    "name",
    "services",
    "areas",
    "home_grid",
    "radius_m",
    "capacity",
    "slots",
    "phone",
    "user",
)


def _area_options(actor) -> tuple[list[tuple[str, list[tuple[str, str]]]], list]:
    streets, communities, grids = _scope_nodes(actor)
    groups = [
        (_("街道"), [(area_value("street", s.id), s.name) for s in streets]),
        (_("社区"), [(area_value("community", c.id), c.name) for c in communities]),
        (_("网格"), [(area_value("grid", g.id), g.name) for g in grids]),
    ]
    return [(label, options) for label, options in groups if options], grids


@login_required
def provider_new(request):
    actor = request.user
    if not has_permission(actor, MANAGE_MATCHING):
        raise PermissionDenied
    area_groups, grids = _area_options(actor)
    data = request.POST if request.method == "POST" else {}
    context = {
        "kinds": Provider.Kind.choices,
        "services": selectors.service_list(),
        "area_groups": area_groups,
        "grids": grids,
        "data": data,
        "picked_services": set(ids(data.getlist("services"))) if data else set(),
        "picked_areas": set(data.getlist("areas")) if data else set(),
        "can_verify": has_permission(actor, VERIFY_PROVIDERS),
        "errors": {},
    }
    if request.method != "POST":
        return render(request, "matching/provider_new.html", context)
    errors: dict[str, list[str]] = {}
    chosen = list(selectors.service_list().filter(id__in=sorted(context["picked_services"])))
    allowed = {value for _label, options in area_groups for value, _name in options}
    areas, slots = [], []
    try:
        areas = area_parse(data.getlist("areas"), allowed)
    except ValidationError as exc:
        errors.update(errors_of(exc))
    try:
        slots = services.slots_parse(data.get("slots", ""))
    except ValidationError as exc:
        errors.update(errors_of(exc))
    home_grid = None
    home_id = int_or_none(data.get("home_grid"))
    if home_id:
        home_grid = next((g for g in grids if g.id == home_id), None)
        if home_grid is None:
            errors["home_grid"] = [_("所在网格超出您的管辖范围")]
    user = None
    username = data.get("username", "").strip()
    if username:
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            errors["user"] = [_("没有用户名为“%(u)s”的账号") % {"u": username[:40]}]
    if not errors:
        try:
            provider = services.provider_register(
                actor=actor,
                kind=data.get("kind", ""),
                name=data.get("name", ""),
                services=chosen,
                areas=areas,
                home_grid=home_grid,
                radius_m=data.get("radius_m") or 0,
                capacity=data.get("capacity") or 3,
                slots=slots,
                phone=data.get("phone", ""),
                user=user,
                verified=context["can_verify"] and data.get("verified") == "on",
            )
        except ValidationError as exc:
            errors = errors_of(exc, PROVIDER_FIELDS)
        else:
            messages.success(request, _("已登记服务方“%(n)s”") % {"n": provider.name})
            return redirect("matching:provider_detail", provider.id)
    context["errors"] = errors
    return render(request, "matching/provider_new.html", context)


def _provider_page(request, provider: Provider, *, errors=None, form: str = ""):
    actor = request.user
    now = timezone.now()
    is_own = provider.user_id is not None and provider.user_id == actor.id
    context = {
        "p": provider,
        "areas": selectors.provider_areas_label(provider),
        "services": list(provider.services.all()),
        "slots": request.POST.get("slots", "") if form == "slots" else _slots_text(provider),
        "absences": list(provider.absences.filter(ends_at__gt=now)),
        "can_verify": has_permission(actor, VERIFY_PROVIDERS),
        "can_edit": is_own or has_permission(actor, MANAGE_MATCHING),
        "verifications": Provider.Verification,
        "errors": errors or {},
        "form": form,
        "data": request.POST if errors else {},
    }
    return render(request, "matching/provider_detail.html", context)


@login_required
@require_GET
def provider_detail(request, provider_id: int):
    provider = selectors.provider_access(actor=request.user, id=provider_id)
    return _provider_page(request, provider)


@login_required
@require_POST
def provider_verify(request, provider_id: int):
    provider = selectors.provider_access(actor=request.user, id=provider_id)
    try:
        services.provider_verify(
            actor=request.user,
            provider=provider,
            verification=request.POST.get("verification", ""),
        )
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, _("审核状态:%(s)s") % {"s": provider.get_verification_display()})
    return redirect("matching:provider_detail", provider.id)


@login_required
@require_POST
def provider_slots(request, provider_id: int):
    provider = selectors.provider_access(actor=request.user, id=provider_id)
    try:
        services.provider_set_slots(
            actor=request.user, provider=provider, slots=request.POST.get("slots", "")
        )
    except ValidationError as exc:
        return _provider_page(request, provider, errors=errors_of(exc, ("slots",)), form="slots")
    messages.success(request, _("已更新服务时段"))
    return redirect("matching:provider_detail", provider.id)


@login_required
@require_POST
def provider_absence(request, provider_id: int):
    provider = selectors.provider_access(actor=request.user, id=provider_id)
    fields = ("starts_at", "ends_at", "note")
    try:
        services.provider_absence_add(
            actor=request.user,
            provider=provider,
            starts_at=local_datetime(request.POST.get("starts_at"), "starts_at"),
            ends_at=local_datetime(request.POST.get("ends_at"), "ends_at"),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        return _provider_page(request, provider, errors=errors_of(exc, fields), form="absence")
    messages.success(request, _("已登记暂停服务"))
    return redirect("matching:provider_detail", provider.id)


# -- open calls (揭榜) ------------------------------------------------------------------------


def _actor(request):
    return request.user if request.user.is_authenticated else None


@require_GET
def call_list(request):
    actor = _actor(request)
    status = request.GET.get("status", "")
    calls = selectors.call_list(actor=actor, status=status, mine=actor is not None)
    page = Paginator(calls.order_by("-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "statuses": [(s, OpenCall.Status(s).label) for s in selectors.PUBLIC_CALL_STATES],
        "delivered": selectors.delivered_list(limit=20),
        "partners": selectors.partner_list(),
        "can_create": bool(services.call_units(actor)) if actor else False,
        "desk": selectors.is_desk(actor),
    }
    return render(request, "matching/call_list.html", context)


def _unit_value(level: str, node) -> str:
    return level if node is None else f"{level}:{node.id}"


CALL_FIELDS = (
    "unit",
    "title",
    "description",
    "location",
    "budget",
    "in_kind",
    "criteria",
    "apply_by",
    "deliver_by",
)


@login_required
def call_new(request):
    actor = request.user
    units = services.call_units(actor)
    if not units:
        raise PermissionDenied
    options = [
        (_unit_value(level, node), node.name if node is not None else _("区级"), (level, node))
        for level, node in units
    ]
    data = request.POST if request.method == "POST" else {}
    context = {"units": options, "data": data, "errors": {}}
    if request.method != "POST":
        return render(request, "matching/call_new.html", context)
    errors: dict[str, list[str]] = {}
    unit = next((u for value, _l, u in options if value == data.get("unit")), options[0][2])
    parsed = {}
    try:
        parsed["apply_by"] = local_datetime(data.get("apply_by"), "apply_by")
    except ValidationError as exc:
        errors.update(errors_of(exc))
    try:
        parsed["deliver_by"] = local_date(data.get("deliver_by"), "deliver_by")
    except ValidationError as exc:
        errors.update(errors_of(exc))
    if not errors:
        try:
            call = services.call_create(
                actor=actor,
                unit=unit,
                title=data.get("title", ""),
                description=data.get("description", ""),
                location=data.get("location", ""),
                budget=data.get("budget", "").strip() or None,
                in_kind=data.get("in_kind", ""),
                criteria=data.get("criteria", ""),
                **parsed,
            )
        except ValidationError as exc:
            errors = errors_of(exc, CALL_FIELDS)
        else:
            messages.success(request, _("已保存为草稿,核对无误后请点“发布”"))
            return redirect("matching:call_detail", call.id)
    context["errors"] = errors
    return render(request, "matching/call_new.html", context)


def _call_page(request, call: OpenCall, *, errors=None, form: str = "", target=None):
    actor = _actor(request)
    now = timezone.now()
    manages = selectors.call_manages(actor=actor, call=call)
    partners = selectors.partners_of(actor)
    applications = call.applications.select_related("partner__organization").prefetch_related(
        "milestones"
    )
    if manages:
        shown = list(applications)
    elif partners:
        shown = list(applications.filter(partner__in=partners))
    else:
        shown = []
    applied = {a.partner_id for a in shown}
    context = {
        "call": call,
        "manages": manages,
        "partners": [p for p in partners if p.id not in applied],
        "applications": [
            {
                "a": a,
                "own": a.partner_id in {p.id for p in partners},
                "errors": errors if target == ("application", a.id) else {},
                "milestones": [
                    {
                        "m": m,
                        "errors": errors if target == ("milestone", m.id) else {},
                    }
                    for m in a.milestones.all()
                ],
            }
            for a in shown
        ],
        "chosen": list(applications.filter(status=Application.Status.CHOSEN) if not shown else []),
        "n_applications": call.applications.count(),
        "open_for_applications": call.status == OpenCall.Status.PUBLISHED and call.apply_by > now,
        "errors": errors if target is None else {},
        "form": form,
        "data": request.POST if errors else {},
        "scores": range(1, 6),
    }
    return render(request, "matching/call_detail.html", context)


@require_GET
def call_detail(request, call_id: int):
    call = selectors.call_access(actor=_actor(request), id=call_id)
    return _call_page(request, call)


def _call_action(request, call_id: int):
    if not request.user.is_authenticated:
        raise PermissionDenied
    call = selectors.call_access(actor=request.user, id=call_id)
    return call, reverse("matching:call_detail", args=[call.id])


@login_required
@require_POST
def call_publish(request, call_id: int):
    call, to = _call_action(request, call_id)
    try:
        services.call_publish(actor=request.user, call=call)
    except (ValidationError, MatchConflict) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("已发布,合作单位现在可以报名"))
    return redirect(to)


@login_required
@require_POST
def call_cancel(request, call_id: int):
    call, to = _call_action(request, call_id)
    try:
        services.call_cancel(actor=request.user, call=call)
    except MatchConflict as exc:
        return _conflict(request, exc, to)
    messages.success(request, _("已撤销揭榜任务"))
    return redirect(to)


@login_required
@require_POST
def call_apply(request, call_id: int):
    call, to = _call_action(request, call_id)
    partners = selectors.partners_of(request.user)
    if not partners:
        raise PermissionDenied
    wanted = int_or_none(request.POST.get("partner"))
    partner = next((p for p in partners if p.id == wanted), partners[0])
    try:
        services.call_apply(
            actor=request.user,
            call=call,
            partner=partner,
            proposal=request.POST.get("proposal", ""),
            amount=request.POST.get("amount", "").strip() or None,
        )
    except ValidationError as exc:
        errors = errors_of(exc, ("partner", "proposal", "amount"))
        return _call_page(request, call, errors=errors, form="apply")
    except MatchConflict as exc:
        return _conflict(request, exc, to)
    messages.success(request, _("已报名,请等待发布单位选定"))
    return redirect(to)


@login_required
@require_POST
def call_choose(request, call_id: int):
    call, to = _call_action(request, call_id)
    try:
        steps = milestone_lines(request.POST.get("milestones", ""))
        chosen = list(call.applications.filter(id__in=ids(request.POST.getlist("applications"))))
        services.call_choose(actor=request.user, call=call, applications=chosen, milestones=steps)
    except ValidationError as exc:
        errors = errors_of(exc, ("applications", "milestones"))
        return _call_page(request, call, errors=errors, form="choose")
    except MatchConflict as exc:
        return _conflict(request, exc, to)
    messages.success(request, _("已选定揭榜单位"))
    return redirect(to)


def _milestone(call: OpenCall, milestone_id: int) -> Milestone:
    """A milestone of this (guarded) call."""
    milestone = (
        Milestone.objects.filter(id=milestone_id, application__call=call)
        .select_related("application__partner", "application__call")
        .first()
    )
    if milestone is None:
        raise Http404
    return milestone


@login_required
@require_POST
def milestone_submit(request, call_id: int, milestone_id: int):
    call, to = _call_action(request, call_id)
    milestone = _milestone(call, milestone_id)
    try:
        services.milestone_submit(
            actor=request.user,
            milestone=milestone,
            evidence=request.POST.get("evidence", ""),
            file=request.FILES.get("evidence_file"),
        )
    except ValidationError as exc:
        errors = errors_of(exc, ("evidence", "evidence_file"))
        return _call_page(request, call, errors=errors, target=("milestone", milestone.id))
    except MatchConflict as exc:
        return _conflict(request, exc, to)
    messages.success(request, _("已提交完成情况,等待验收"))
    return redirect(to)


@login_required
@require_POST
def milestone_accept(request, call_id: int, milestone_id: int):
    call, to = _call_action(request, call_id)
    milestone = _milestone(call, milestone_id)
    try:
        services.milestone_accept(actor=request.user, milestone=milestone)
    except (ValidationError, MatchConflict) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("已验收“%(t)s”") % {"t": milestone.title})
    return redirect(to)


@login_required
@require_POST
def call_evaluate(request, call_id: int, application_id: int):
    call, to = _call_action(request, call_id)
    application = call.applications.select_related("partner", "call").filter(id=application_id)
    application = application.first()
    if application is None:
        raise Http404
    try:
        services.call_evaluate(
            actor=request.user,
            application=application,
            score=request.POST.get("score"),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        errors = errors_of(exc, ("score", "note"))
        return _call_page(request, call, errors=errors, target=("application", application.id))
    except MatchConflict as exc:
        return _conflict(request, exc, to)
    messages.success(request, _("已评价"))
    return redirect(to)


# -- service records --------------------------------------------------------------------------


RECORD_BY = {
    "provider": _("服务方"),
    "user": _("人员"),
    "department": _("部门"),
    "organization": _("组织"),
}


@login_required
@require_GET
def records(request):
    g = request.GET
    by = g.get("by") if g.get("by") in selectors.RECORD_GROUPS else "provider"
    kind = g.get("kind") if g.get("kind") in ServiceRecord.Kind.values else ""
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    start, end = today.replace(day=1), today
    try:
        start = local_date(g.get("start"), "start") or start
    except ValidationError as exc:
        errors.update(errors_of(exc))
    try:
        end = local_date(g.get("end"), "end") or end
    except ValidationError as exc:
        errors.update(errors_of(exc))
    if not errors and end < start:
        errors["end"] = [_("结束日期不能早于开始日期")]
    if not errors and (end - start).days > 366 * 3:
        errors["end"] = [_("统计期间不能超过三年")]
    rows = []
    if not errors:
        rows = selectors.service_record_summary(
            actor=request.user, by=by, start=start, end=end, kind=kind
        )
    totals = {
        "records": sum(r["records"] for r in rows),
        "people": sum(r["people"] for r in rows),
        "families": sum(r["families"] for r in rows),
        "hours": round(sum(r["hours"] for r in rows), 1),
    }
    if g.get("format") == "xlsx" and not errors:
        return _records_xlsx(request, rows, by=by, start=start, end=end)
    context = {
        "rows": rows,
        "totals": totals,
        "by": by,
        "by_options": RECORD_BY.items(),
        "kind": kind,
        "kinds": ServiceRecord.Kind.choices,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "errors": errors,
        "desk": selectors.is_desk(request.user),
    }
    return render(request, "matching/records.html", context)


def _records_xlsx(request, rows, *, by: str, start, end) -> HttpResponse:
    from yiwang.common.export import write_rows

    table = [[RECORD_BY[by], _("服务人次"), _("服务人数"), _("服务户数"), _("时长 (小时)")]]
    table += [[r["name"], r["records"], r["people"], r["families"], r["hours"]] for r in rows]
    banner = _("服务记录 %(a)s 至 %(b)s 导出人:%(u)s 导出时间:%(t)s") % {
        "a": start.isoformat(),
        "b": end.isoformat(),
        "u": request.user.get_username(),
        "t": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
    }
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "records.xlsx"
        write_rows(table, path, title=_("服务记录"), banner=banner)
        content = path.read_bytes()
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="service-records-{by}-{start:%Y%m%d}-{end:%Y%m%d}.xlsx"'
    )
    return response
