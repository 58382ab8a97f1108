"""Resource list pages (资源清单): the providers of a desk's part of the tree, registering one,
and one provider with its verification, weekly slots and absences."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from yiwang.org.permissions import MANAGE_MATCHING, VERIFY_PROVIDERS, has_permission

from . import selectors, services
from .forms import area_parse, area_value, errors_of, ids, int_or_none, local_datetime
from .models import Provider
from .views import PAGE_SIZE, _desk_only, _htmx, _scope_nodes, _slots_text

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
