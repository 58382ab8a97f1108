"""Registry pages: the resident list with filters and export, the resident's card with reveal
and navigation (person → household → house → building → grid), import with its report.
Views only orchestrate: every read goes through the logging selectors, every write through a
service."""

from __future__ import annotations

import os
import tempfile

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from yiwang.org.permissions import (
    EXPORT_PERSONAL,
    IMPORT_REGISTRY,
    REVEAL_PERSONAL,
    has_permission,
)
from yiwang.org.selectors import grid_list

from . import selectors, services
from .cards import card_sections
from .exports import residents_export
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
@require_POST
def resident_archive(request, resident_id: int):
    resident = selectors.resident_access(actor=request.user, id=resident_id)
    services.resident_archive(actor=request.user, resident=resident)
    return redirect("registry:resident_list")


@login_required
def access_log(request):
    rows = selectors.access_log_list(
        actor=request.user,
        actor_name=request.GET.get("actor_name", ""),
        action=request.GET.get("action", ""),
    )[:200]
    return render(request, "registry/access_log.html", {"rows": rows})
