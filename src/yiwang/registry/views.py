"""Registry pages: the resident list with filters and export, the resident's card with reveal
and navigation (person → household → house → building → grid), import with its report.
Views only orchestrate: every read goes through the logging selectors, every write through a
service."""

from __future__ import annotations

import os
import tempfile

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.org.permissions import (
    EXPORT_PERSONAL,
    IMPORT_REGISTRY,
    MANAGE_REGISTRY,
    REVEAL_PERSONAL,
    has_permission,
)
from yiwang.org.selectors import grid_list

from . import selectors, services
from .cards import card_sections
from .exports import residents_export
from .forms import ResidentForm, add_service_errors
from .models import ResidenceType
from .privacy import PURPOSES, resident_masked


def _int(value):
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _filter(params) -> selectors.ResidentFilter:
    return selectors.ResidentFilter(
        q=(params.get("q") or "").strip()[:100],
        grid_id=_int(params.get("grid_id")),
        tag=params.get("tag") or "",
        age_min=_int(params.get("age_min")),
        age_max=_int(params.get("age_max")),
        residence_type=params.get("residence_type") or "",
        needs_address=params.get("needs_address") == "1",
    )


@login_required
def resident_list(request):
    f = _filter(request.GET)
    offset = max(_int(request.GET.get("offset")) or 0, 0)
    error = None
    page, total = [], 0
    try:
        page, total = selectors.resident_list(
            actor=request.user,
            f=f,
            purpose=request.GET.get("purpose"),
            reason=request.GET.get("reason"),
            offset=offset,
            limit=50,
            channel="web",
        )
    except ValidationError as exc:
        error = "; ".join(exc.messages)
    query = request.GET.copy()
    query.pop("offset", None)
    return render(
        request,
        "registry/resident_list.html",
        {
            "rows": [resident_masked(r) for r in page],
            "total": total,
            "offset": offset,
            "next_offset": offset + 50 if offset + 50 < total else None,
            "prev_offset": max(offset - 50, 0) if offset else None,
            "query": query.urlencode(),
            "f": f,
            "error": error,
            "grids": grid_list(actor=request.user),
            "tags": selectors.tag_list(),
            "purposes": PURPOSES.items(),
            "residence_types": ResidenceType.choices,
            "can_export": has_permission(request.user, EXPORT_PERSONAL),
            "can_import": has_permission(request.user, IMPORT_REGISTRY),
            "can_create": has_permission(request.user, MANAGE_REGISTRY),
            "tab": "residents",
            "purpose": request.GET.get("purpose") or "",
            "needs_address": selectors.needs_address_counts(actor=request.user)["residents"],
        },
    )


@login_required
def resident_export(request):
    fmt = "csv" if request.GET.get("format") == "csv" else "xlsx"
    fd, name = tempfile.mkstemp(suffix=f".{fmt}")
    os.close(fd)
    try:
        residents_export(
            actor=request.user,
            f=_filter(request.GET),
            path=name,
            purpose=request.GET.get("purpose"),
            reason=request.GET.get("reason"),
            channel="web",
        )
        handle = open(name, "rb")  # noqa: SIM115 (closed by FileResponse)
    except ValidationError as exc:
        return HttpResponseBadRequest("; ".join(exc.messages))
    finally:
        os.unlink(name)
    return FileResponse(handle, as_attachment=True, filename=f"residents.{fmt}")


@login_required
def resident_card(request, resident_id: int):
    resident = selectors.resident_view(actor=request.user, id=resident_id, channel="web")
    return _card(request, resident, revealed=False)


def _visible(access, actor, obj) -> bool:
    """Whether the card may link to the person's household, house or building: department
    staff see a linked person but not the grid's households, houses and buildings."""
    if obj is None:
        return False
    try:
        access(actor=actor, id=obj.id)
    except Http404:
        return False
    return True


def _card(request, resident, *, revealed: bool, error: str | None = None):
    members = []
    if resident.household_id:
        members = [
            m
            for m in selectors.resident_queryset(
                actor=request.user, f=selectors.ResidentFilter(household_id=resident.household_id)
            ).only("id", "name", "relation_to_head")
            if m.id != resident.id
        ]
    return render(
        request,
        "registry/resident_card.html",
        {
            "r": resident,
            "data": resident_masked(resident, revealed=revealed),
            "revealed": revealed,
            "members": members,
            "can_reveal": has_permission(request.user, REVEAL_PERSONAL),
            "can_manage": has_permission(request.user, MANAGE_REGISTRY),
            "tab": "residents",
            "household_link": _visible(
                selectors.household_access, request.user, resident.household
            ),
            "house_link": _visible(selectors.house_access, request.user, resident.house),
            "building_link": _visible(selectors.building_access, request.user, resident.building),
            "map_url": reverse("web:map")
            + (f"#grid={resident.grid_id}" if resident.grid_id else ""),
            "error": error,
            "sections": card_sections(request.user, resident),
        },
    )


@login_required
@require_POST
def resident_reveal(request, resident_id: int):
    try:
        resident = selectors.resident_reveal(
            actor=request.user, id=resident_id, reason=request.POST.get("reason", ""), channel="web"
        )
    except ValidationError as exc:
        resident = selectors.resident_access(actor=request.user, id=resident_id)
        return _card(request, resident, revealed=False, error="; ".join(exc.messages))
    return _card(request, resident, revealed=True)


@login_required
@require_http_methods(["GET", "POST"])
def resident_archive(request, resident_id: int):
    """GET asks to confirm; POST archives (the person leaves lists, the ID number is free)."""
    resident = selectors.resident_access(actor=request.user, id=resident_id)
    if request.method == "POST":
        services.resident_archive(actor=request.user, resident=resident)
        return redirect("registry:resident_list")
    _require_manage(request.user)
    return render(
        request,
        "registry/archive_confirm.html",
        {
            "tab": "residents",
            "title": _("居民"),
            "label": resident.name,
            "action": reverse("registry:resident_archive", args=[resident.id]),
            "back": reverse("registry:resident_card", args=[resident.id]),
            "archived": resident.is_archived,
        },
    )


# -- create and edit ----------------------------------------------------------------------


def _require_manage(actor) -> None:
    if not has_permission(actor, MANAGE_REGISTRY):
        raise PermissionDenied(MANAGE_REGISTRY)


def _resident_initial(r) -> dict:
    return {
        "name": r.name,
        "id_number": "",
        "gender": r.gender,
        "birth_date": r.birth_date.isoformat() if r.birth_date else "",
        "phones": "",
        "address": r.address,
        "residence_type": r.residence_type,
        "hukou_address": r.hukou_address,
        "ethnic_group": r.ethnic_group,
        "is_party_member": r.is_party_member,
        "tags": sorted(t.code for t in r.tags.all()),
        "workplace": r.workplace,
        "household_id": r.household_id,
        "relation_to_head": r.relation_to_head,
        "house_id": r.house_id,
        "notes": r.notes,
    }


def _resident_changes(form, initial: dict) -> dict:
    out = {}
    for name, value in form.cleaned_data.items():
        if name in ResidentForm.KEEP_WHEN_BLANK:
            if value:
                out[name] = value
        elif name == "tags":
            if sorted(set(value)) != initial["tags"]:
                out[name] = value
        elif value != initial[name]:
            out[name] = value
    return out


def _resident_form_page(request, form, r=None, status: int = 200):
    return render(
        request,
        "registry/resident_form.html",
        {"form": form, "r": r, "tab": "residents"},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def resident_new(request):
    actor = request.user
    _require_manage(actor)
    form = ResidentForm(
        request.POST if request.method == "POST" else None, tags=selectors.tag_list()
    )
    if request.method == "POST":
        if form.is_valid():
            fields = {k: v for k, v in form.cleaned_data.items() if v not in ("", None, [], False)}
            try:
                resident = services.resident_create(actor=actor, **fields)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect("registry:resident_card", resident_id=resident.id)
        return _resident_form_page(request, form, status=400)
    return _resident_form_page(request, form)


@login_required
@require_http_methods(["GET", "POST"])
def resident_edit(request, resident_id: int):
    actor = request.user
    resident = selectors.resident_access(actor=actor, id=resident_id)
    _require_manage(actor)
    if request.method == "GET":
        # The form shows the person's data: a view, logged like the card.
        resident = selectors.resident_view(actor=actor, id=resident_id, channel="web")
    if resident.is_archived:
        return redirect("registry:resident_card", resident_id=resident.id)
    shown = resident_masked(resident)
    options = {
        # A tag since retired stays on offer for the person who has it, so saving keeps it.
        "tags": [*selectors.tag_list(), *(t for t in resident.tags.all() if not t.is_active)],
        "editing": True,
        "masked": {"id_number": shown["id_number"], "phones": "、".join(shown["phones"])},
    }
    initial = _resident_initial(resident)
    if request.method == "GET":
        return _resident_form_page(request, ResidentForm(initial=initial, **options), resident)
    form = ResidentForm(request.POST, **options)
    if form.is_valid():
        try:
            services.resident_update(
                actor=actor, resident=resident, **_resident_changes(form, initial)
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("registry:resident_card", resident_id=resident.id)
    resident = selectors.resident_access(actor=actor, id=resident_id)
    return _resident_form_page(request, form, resident, status=400)


@login_required
def access_log(request):
    rows = selectors.access_log_list(
        actor=request.user,
        actor_name=request.GET.get("actor_name", ""),
        action=request.GET.get("action", ""),
    )[:200]
    return render(request, "registry/access_log.html", {"rows": rows})
