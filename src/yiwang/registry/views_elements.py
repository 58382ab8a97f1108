"""Pages for households (户), houses (房屋), places (场所) and organisations (组织): a list with
filters per kind, a detail page, create, edit and archive; and a read-only page per building
(楼院), the step between a house and its grid. Scoped exactly as the API: every fetch goes
through the selectors' guards (404 out of scope), every write through a service (403 without
the permission it checks), and reads of people through the logging selectors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.org.permissions import MANAGE_REGISTRY, has_permission
from yiwang.org.selectors import grid_list

from . import selectors, services
from .forms import (
    AddMemberForm,
    ElementForm,
    HouseForm,
    HouseholdForm,
    OrganizationForm,
    PlaceForm,
    SetHeadForm,
    add_service_errors,
)
from .idcard import phone_mask
from .models import House, Household, Organization, Place, Resident
from .privacy import resident_masked

PAGE_SIZE = 50


@dataclass(frozen=True)
class Kind:
    key: str  # the URL segment, as in the API: /registry/<key>/
    name: str  # the URL names' prefix and the service keyword: household_list, household=
    model: type
    form: type[ElementForm]
    create: Callable
    update: Callable
    archive: Callable
    title: Promise
    new_label: Promise

    @property
    def urls(self) -> dict[str, str]:
        """The URL names of this kind's pages, for templates: {% url k.urls.detail id %}."""
        return {
            p: f"registry:{self.name}_{p}" for p in ("list", "new", "detail", "edit", "archive")
        }


KINDS: dict[str, Kind] = {
    k.key: k
    for k in (
        Kind("households", "household", Household, HouseholdForm, services.household_create,
             services.household_update, services.household_archive,
             gettext_lazy("户"), gettext_lazy("新增户")),
        Kind("houses", "house", House, HouseForm, services.house_create,
             services.house_update, services.house_archive,
             gettext_lazy("房屋"), gettext_lazy("新增房屋")),
        Kind("places", "place", Place, PlaceForm, services.place_create,
             services.place_update, services.place_archive,
             gettext_lazy("场所"), gettext_lazy("新增场所")),
        Kind("organizations", "organization", Organization, OrganizationForm,
             services.organization_create, services.organization_update,
             services.organization_archive,
             gettext_lazy("组织"), gettext_lazy("新增组织")),
    )
}  # fmt: skip


def _kind(kind: str) -> Kind:
    if kind not in KINDS:
        raise Http404
    return KINDS[kind]


def _int(value) -> int | None:
    value = str(value or "").strip()
    return int(value) if value.isdigit() and len(value) < 12 else None


def _can_manage(actor) -> bool:
    return has_permission(actor, MANAGE_REGISTRY)


def _require_manage(actor) -> None:
    if not _can_manage(actor):
        raise PermissionDenied(MANAGE_REGISTRY)


def map_url(obj) -> str:
    """The map at the element's grid, as the resident card links it."""
    return reverse("web:map") + (f"#grid={obj.grid_id}" if obj.grid_id else "")


# -- lists --------------------------------------------------------------------------------


@login_required
def element_list(request, kind: str):
    k = _kind(kind)
    actor, g = request.user, request.GET
    f = {
        "q": (g.get("q") or "").strip()[:100],
        "grid_id": _int(g.get("grid_id")),
        "type": g.get("type", "") if hasattr(k.model, "Kind") else "",
        "needs_address": g.get("needs_address") == "1",
        "archived": g.get("archived") == "1",
    }
    qs = selectors.element_list(
        actor=actor,
        model=k.model,
        grid_id=f["grid_id"],
        q=f["q"],
        kind=f["type"],
        needs_address=f["needs_address"],
        archived=f["archived"],
    ).select_related("grid", "building")
    if k.model is Household:
        qs = qs.select_related("house")
    page = Paginator(qs, PAGE_SIZE).get_page(g.get("page"))
    _count_people(actor, k, page)
    kind_counts = []
    if hasattr(k.model, "Kind"):
        base = selectors.element_list(actor=actor, model=k.model, grid_id=f["grid_id"], q=f["q"])
        counted = dict(base.values_list("kind").annotate(n=Count("id")).values_list("kind", "n"))
        kind_counts = [(v, label, counted.get(v, 0)) for v, label in k.model.Kind.choices]
    query = g.copy()
    query.pop("page", None)
    return render(
        request,
        "registry/element_list.html",
        {
            "k": k,
            "tab": k.key,
            "f": f,
            "page": page,
            "query": query.urlencode(),
            "grids": grid_list(actor=actor),
            "kinds": k.model.Kind.choices if hasattr(k.model, "Kind") else [],
            "kind_counts": kind_counts,
            "needs_address": selectors.element_list(
                actor=actor, model=k.model, needs_address=True
            ).count(),
            "can_create": _can_manage(actor),
        },
    )


def _count_people(actor, k: Kind, page) -> None:
    """Members per household, occupants per house: counted for the page shown only (a count
    annotated on the whole list would join every resident of the scope to count the pages)."""
    link = {Household: "household_id", House: "house_id"}.get(k.model)
    if link is None:
        return
    rows = list(page.object_list)
    people = selectors.resident_queryset(actor=actor, f=selectors.ResidentFilter())
    counts = dict(
        people.filter(**{f"{link}__in": [o.id for o in rows]})
        .order_by()
        .values_list(link)
        .annotate(n=Count("id"))
        .values_list(link, "n")
    )
    for o in rows:
        o.people_count = counts.get(o.id, 0)
    page.object_list = rows


# -- detail -------------------------------------------------------------------------------


def _contact(obj) -> str:
    return phone_mask(getattr(obj, "contact_phone", "") or "")


@login_required
def element_detail(request, kind: str, element_id: int):
    return _detail(request, _kind(kind), element_id)


def _detail(request, k: Kind, element_id: int, *, error: str = "", status: int = 200):
    actor = request.user
    context = {"k": k, "tab": k.key, "can_manage": _can_manage(actor), "error": error}
    if k.model is Household:
        household, members = selectors.household_view(actor=actor, id=element_id, channel="web")
        obj = household
        context.update(
            members=[resident_masked(m) for m in members],
            head_in_scope=any(m.id == household.head_id for m in members),
            set_head_form=SetHeadForm(initial={"head": household.head_id}),
            add_member_form=AddMemberForm(),
        )
        template = "registry/household_detail.html"
    elif k.model is House:
        obj = selectors.house_access(actor=actor, id=element_id)
        occupants, total = selectors.resident_list(
            actor=actor,
            f=selectors.ResidentFilter(house_id=obj.id),
            limit=selectors.MAX_PAGE,
            channel="web",
        )
        context.update(
            occupants=[resident_masked(r) for r in occupants],
            occupant_total=total,
            households=selectors.element_list(actor=actor, model=Household).filter(house_id=obj.id),
        )
        template = "registry/house_detail.html"
    else:
        obj = selectors.element_access(actor=actor, model=k.model, id=element_id)
        template = "registry/place_detail.html"
    context.update(
        obj=obj,
        map_url=map_url(obj),
        contact_phone=_contact(obj),
        building_link=selectors.building_visible(actor=actor, id=obj.building_id),
    )
    return render(request, template, context, status=status)


# -- buildings ----------------------------------------------------------------------------


@login_required
def building_detail(request, building_id: int):
    """A building (楼院): where it is and what is in it, in counts and houses, no names; the
    people are one click further, on the house pages, which log what they show."""
    actor = request.user
    building = selectors.building_access(actor=actor, id=building_id)
    summary = selectors.building_summary(actor=actor, building=building)
    return render(
        request,
        "registry/building_detail.html",
        {"tab": "houses", "obj": building, "summary": summary, "map_url": map_url(building)},
    )


# -- create and edit ----------------------------------------------------------------------


def _create_fields(form) -> dict:
    data = {k: v for k, v in form.cleaned_data.items() if v not in ("", None)}
    return data


def _edit_fields(form, obj) -> dict:
    """Only what changed. Moving an element (address, building, point) is passed as one
    location for the service to resolve; a house keeps its unit and room when it moves."""
    cd = form.cleaned_data
    keep_blank = getattr(form, "KEEP_WHEN_BLANK", ())
    out = {}
    for name, value in cd.items():
        if name in form.LOCATION:
            continue
        if name in keep_blank:
            if value:
                out[name] = value
        elif value != getattr(obj, name):
            out[name] = value
    moved = [n for n in form.LOCATION if n in cd and cd[n] != getattr(obj, n)]
    if moved:
        if "building_id" in moved and cd.get("building_id"):
            out["building_id"] = cd["building_id"]
        if cd.get("lat") is not None and cd.get("lng") is not None:
            out["lat"], out["lng"] = cd["lat"], cd["lng"]
        out["address"] = cd.get("address", "")
        if isinstance(obj, House):
            for name in ("unit", "room"):
                if cd.get(name):
                    out.setdefault(name, cd[name])
    return out


def _form_page(request, k: Kind, form, obj=None, status: int = 200):
    return render(
        request,
        "registry/element_form.html",
        {"k": k, "tab": k.key, "form": form, "obj": obj},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def element_new(request, kind: str):
    k = _kind(kind)
    actor = request.user
    _require_manage(actor)
    if request.method == "GET":
        initial = {}
        if k.model is Household and _int(request.GET.get("house_id")):
            initial["house_id"] = _int(request.GET.get("house_id"))
        return _form_page(request, k, k.form(actor=actor, initial=initial))
    form = k.form(request.POST, actor=actor)
    if form.is_valid():
        try:
            obj = k.create(actor=actor, **_create_fields(form))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect(f"registry:{k.name}_detail", element_id=obj.id)
    return _form_page(request, k, form, status=400)


def _initial(form_class, obj) -> dict:
    keep = getattr(form_class, "KEEP_WHEN_BLANK", ())
    names = form_class.base_fields
    return {n: ("" if n in keep else getattr(obj, n)) for n in names}


@login_required
@require_http_methods(["GET", "POST"])
def element_edit(request, kind: str, element_id: int):
    k = _kind(kind)
    actor = request.user
    obj = selectors.element_access(actor=actor, model=k.model, id=element_id)
    _require_manage(actor)
    if obj.is_archived:
        return redirect(f"registry:{k.name}_detail", element_id=obj.id)
    extra = {}
    if hasattr(k.form, "KEEP_WHEN_BLANK"):
        extra = {"editing": True, "masked": {"contact_phone": _contact(obj)}}
    if request.method == "GET":
        form = k.form(actor=actor, initial=_initial(k.form, obj), **extra)
        return _form_page(request, k, form, obj)
    form = k.form(request.POST, actor=actor, **extra)
    if form.is_valid():
        try:
            k.update(actor=actor, **{k.name: obj}, **_edit_fields(form, obj))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect(f"registry:{k.name}_detail", element_id=obj.id)
    obj = selectors.element_access(actor=actor, model=k.model, id=element_id)
    return _form_page(request, k, form, obj, status=400)


# -- archive ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def element_archive(request, kind: str, element_id: int):
    """GET asks to confirm; POST archives (the element leaves lists, its history stays)."""
    k = _kind(kind)
    actor = request.user
    obj = selectors.element_access(actor=actor, model=k.model, id=element_id)
    _require_manage(actor)
    error = None
    if request.method == "POST":
        try:
            k.archive(actor=actor, **{k.name: obj})
        except ValidationError as exc:
            error = "; ".join(exc.messages)
        else:
            return redirect(f"registry:{k.name}_list")
    return render(
        request,
        "registry/archive_confirm.html",
        {
            "error": error,
            "tab": k.key,
            "title": k.title,
            "label": str(obj),
            "action": reverse(f"registry:{k.name}_archive", args=[obj.id]),
            "back": reverse(f"registry:{k.name}_detail", args=[obj.id]),
            "archived": obj.is_archived,
        },
        status=400 if error else 200,
    )


# -- household members --------------------------------------------------------------------


def _household_page_with_error(request, household_id: int, error: str):
    return _detail(request, KINDS["households"], household_id, error=error, status=400)


def _live_resident(actor, resident_id) -> Resident | None:
    """The live resident the actor may see, or None (the household page then says so)."""
    try:
        resident = selectors.resident_access(actor=actor, id=resident_id)
    except Http404:
        return None
    return None if resident.is_archived else resident


@login_required
@require_POST
def household_set_head(request, element_id: int):
    actor = request.user
    household = selectors.household_access(actor=actor, id=element_id)
    _require_manage(actor)
    form = SetHeadForm(request.POST)
    if not form.is_valid():
        return _household_page_with_error(request, household.id, _("请选择户主"))
    head = _live_resident(actor, form.cleaned_data["head"])
    if head is None or head.household_id != household.id:
        return _household_page_with_error(request, household.id, _("户主须为本户在册成员"))
    try:
        services.household_set_head(actor=actor, household=household, head=head)
    except ValidationError as exc:
        return _household_page_with_error(request, household.id, "; ".join(exc.messages))
    return redirect("registry:household_detail", element_id=household.id)


@login_required
@require_POST
def household_add_member(request, element_id: int):
    actor = request.user
    household = selectors.household_access(actor=actor, id=element_id)
    _require_manage(actor)
    form = AddMemberForm(request.POST)
    if not form.is_valid():
        return _household_page_with_error(request, household.id, _("请填写居民编号"))
    resident = _live_resident(actor, form.cleaned_data["resident"])
    if resident is None:
        return _household_page_with_error(
            request, household.id, _("居民不存在或不在您的管辖范围内")
        )
    try:
        services.household_add_member(
            actor=actor,
            household=household,
            resident=resident,
            relation=form.cleaned_data["relation"],
        )
    except ValidationError as exc:
        return _household_page_with_error(request, household.id, "; ".join(exc.messages))
    return redirect("registry:household_detail", element_id=household.id)


@login_required
@require_POST
def household_remove_member(request, element_id: int, resident_id: int):
    actor = request.user
    household = selectors.household_access(actor=actor, id=element_id)
    _require_manage(actor)
    resident = _live_resident(actor, resident_id)
    if resident is None:
        return _household_page_with_error(
            request, household.id, _("居民不存在或不在您的管辖范围内")
        )
    try:
        services.household_remove_member(actor=actor, household=household, resident=resident)
    except ValidationError as exc:
        return _household_page_with_error(request, household.id, "; ".join(exc.messages))
    return redirect("registry:household_detail", element_id=household.id)
