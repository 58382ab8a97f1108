"""The registry API: parse, guard, call a service or selector, shape. Personal data leaves only
masked unless revealed; every read of it is logged by the selector that made it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.http import FileResponse
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from . import selectors, services
from .exports import residents_export
from .importer import residents_import
from .jobs import (
    ImportInputError,
    ImportJobStateError,
    import_job_access,
    import_job_cancel,
    import_job_progress,
    import_job_start,
)
from .models import House, Household, Organization, Place
from .privacy import resident_masked
from .schemas import (
    AccessLogOut,
    ElementIn,
    ElementOut,
    ElementPage,
    ResidentCard,
    ResidentIn,
    ResidentOut,
    ResidentPage,
    ResidentPatch,
    RevealIn,
    RevealOut,
    TagOut,
)

router = Router(tags=["registry"])


class ResidentQuery(Schema):
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
    purpose: str = ""
    reason: str = ""
    limit: int = 50
    offset: int = 0

    def to_filter(self) -> selectors.ResidentFilter:
        data = self.dict()
        for key in ("purpose", "reason", "limit", "offset"):
            data.pop(key)
        return selectors.ResidentFilter(**data)


def _place(obj) -> dict | None:
    return None if obj is None else {"id": obj.id, "label": str(obj)}


def resident_card(r, *, revealed=False) -> dict:
    return {
        **resident_masked(r, revealed=revealed),
        "grid": {"id": r.grid.id, "code": r.grid.code, "name": r.grid.name} if r.grid else None,
        "building": _place(r.building),
        "house": _place(r.house),
        "household": _place(r.household),
        "linked": {},
    }


@router.get("/residents", response=ResidentPage)
def resident_list(request, query: Query[ResidentQuery]):
    page, total = selectors.resident_list(
        actor=request.user,
        f=query.to_filter(),
        purpose=query.purpose,
        reason=query.reason,
        limit=query.limit,
        offset=query.offset,
    )
    return {"total": total, "offset": query.offset, "items": [resident_masked(r) for r in page]}


@router.post("/residents", response={201: ResidentOut})
def resident_create(request, payload: ResidentIn):
    resident = services.resident_create(actor=request.user, **payload.dict())
    resident = selectors.resident_access(actor=request.user, id=resident.id)
    return Status(201, resident_masked(resident))


@router.get("/residents/export")
def resident_export(
    request, query: Query[ResidentQuery], format: str = "xlsx", reveal: bool = False
):
    suffix = ".csv" if format == "csv" else ".xlsx"
    fd, name = tempfile.mkstemp(suffix=suffix)
    os.close(fd)
    try:
        residents_export(
            actor=request.user,
            f=query.to_filter(),
            path=name,
            purpose=query.purpose,
            reason=query.reason,
            reveal=reveal,
        )
        handle = open(name, "rb")  # noqa: SIM115 (closed by FileResponse)
    finally:
        os.unlink(name)  # the open handle keeps the data until the response is sent
    return FileResponse(handle, as_attachment=True, filename=f"residents{suffix}")


@router.get("/residents/{int:resident_id}", response=ResidentCard)
def resident_detail(request, resident_id: int, purpose: str = ""):
    resident = selectors.resident_view(actor=request.user, id=resident_id, purpose=purpose)
    return resident_card(resident)


@router.patch("/residents/{int:resident_id}", response=ResidentOut)
def resident_update(request, resident_id: int, payload: ResidentPatch):
    resident = selectors.resident_access(actor=request.user, id=resident_id)
    fields = payload.dict(exclude_unset=True)
    services.resident_update(actor=request.user, resident=resident, **fields)
    return resident_masked(selectors.resident_access(actor=request.user, id=resident_id))


@router.post("/residents/{int:resident_id}/archive", response=ResidentOut)
def resident_archive(request, resident_id: int):
    resident = selectors.resident_access(actor=request.user, id=resident_id)
    services.resident_archive(actor=request.user, resident=resident)
    return resident_masked(resident)


@router.post("/residents/{int:resident_id}/reveal", response=RevealOut)
def resident_reveal(request, resident_id: int, payload: RevealIn):
    resident = selectors.resident_reveal(actor=request.user, id=resident_id, reason=payload.reason)
    return {"id": resident.id, "id_number": resident.id_number, "phones": resident.phones or []}


@router.post("/residents/import")
def resident_import(
    request,
    file: File[UploadedFile],
    source: Form[str] = "import",
    commit: Form[bool] = False,
):
    """Upload a spreadsheet: a dry-run report unless commit is true."""
    suffix = Path(file.name or "").suffix.lower() or ".csv"
    fd, name = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in file.chunks():
                out.write(chunk)
        report = residents_import(actor=request.user, path=name, source=source, commit=commit)
    finally:
        os.unlink(name)
    return report.as_dict()


@router.post("/residents/import-jobs", response={202: dict, 400: dict})
def resident_import_job_start(
    request,
    file: File[UploadedFile],
    source: Form[str] = "import",
    commit: Form[bool] = False,
):
    """Upload a spreadsheet of any size: it is checked (and with commit, written) in the
    background; poll the job for progress and, when finished, its report."""
    try:
        job = import_job_start(
            actor=request.user, upload_file=file, source=source[:40], commit=commit
        )
    except ImportInputError as exc:
        return Status(400, {"detail": {"file": [str(exc)]}})
    return Status(202, import_job_progress(job))


@router.get("/residents/import-jobs/{int:job_id}")
def resident_import_job(request, job_id: int):
    """Progress of one's own import job, and its report once done."""
    job = import_job_access(actor=request.user, id=job_id)
    out = import_job_progress(job)
    out["report"] = job.report if job.status == job.Status.DONE else None
    return out


@router.post("/residents/import-jobs/{int:job_id}/cancel", response={200: dict, 409: dict})
def resident_import_job_cancel(request, job_id: int):
    """Cancels one's own queued or running import job. A running job stops after the batch it
    is writing (`cancel_requested` is true until then); the batches already written stay, and
    importing the same file again does not duplicate them. 409 once the job has ended."""
    job = import_job_access(actor=request.user, id=job_id)
    try:
        job = import_job_cancel(actor=request.user, job=job)
    except ImportJobStateError as exc:
        return Status(409, {"code": "conflict", "message": str(exc), "field": None})
    return Status(200, import_job_progress(job))


# -- households, houses, places, organisations ----------------------------------------------

KINDS = {
    "households": (Household, services.household_create, services.household_update,
                   services.household_archive, "household"),
    "houses": (House, services.house_create, services.house_update, services.house_archive,
               "house"),
    "places": (Place, services.place_create, services.place_update, services.place_archive,
               "place"),
    "organizations": (Organization, services.organization_create,
                      services.organization_update, services.organization_archive,
                      "organization"),
}  # fmt: skip

_HIDDEN = {"id", "address", "grid", "building", "lat", "lng", "address_status", "archived_at",
           "created_by", "created_at", "updated_at", "kind"}  # fmt: skip


def element_out(obj) -> dict:
    from .idcard import phone_mask

    fields = {}
    for f in obj._meta.concrete_fields:
        if f.name in _HIDDEN:
            continue
        value = getattr(obj, f.attname)
        if f.name == "contact_phone":
            value = phone_mask(value)
        fields[f.attname] = value
    return {
        "id": obj.id,
        "type": type(obj).__name__.lower(),
        "label": str(obj),
        "kind": getattr(obj, "kind", None),
        "kind_label": obj.get_kind_display() if hasattr(obj, "kind") else None,
        "address": obj.address,
        "grid_id": obj.grid_id,
        "building_id": obj.building_id,
        "lat": obj.lat,
        "lng": obj.lng,
        "address_status": obj.address_status,
        "archived": obj.archived_at is not None,
        "fields": fields,
    }


def _kind(kind: str):
    from django.http import Http404

    if kind not in KINDS:
        raise Http404
    return KINDS[kind]


@router.get("/needs-address")
def needs_address(request):
    """The "needs address" queue: how many of each element wait for an address."""
    return selectors.needs_address_counts(actor=request.user)


@router.get("/tags", response=list[TagOut])
def tag_list(request):
    return list(selectors.tag_list())


@router.get("/access-log", response=list[AccessLogOut])
def access_log(request, actor_name: str = "", action: str = "", limit: int = 100, offset: int = 0):
    qs = selectors.access_log_list(actor=request.user, actor_name=actor_name, action=action)
    return [
        {**{f: getattr(row, f) for f in AccessLogOut.model_fields if f != "at"},
         "at": row.at.isoformat()}
        for row in qs[offset : offset + min(limit, 500)]
    ]  # fmt: skip


@router.get("/{kind}", response=ElementPage)
def element_list(
    request,
    kind: str,
    grid_id: int | None = None,
    q: str = "",
    type: str = "",
    needs_address: bool = False,
    archived: bool = False,
    limit: int = 50,
    offset: int = 0,
):
    model = _kind(kind)[0]
    qs = selectors.element_list(
        actor=request.user, model=model, grid_id=grid_id, q=q, kind=type,
        needs_address=needs_address, archived=archived,
    )  # fmt: skip
    limit = max(1, min(limit, 200))
    return {
        "total": qs.count(),
        "offset": offset,
        "items": [element_out(o) for o in qs[offset : offset + limit]],
    }


@router.post("/{kind}", response={201: ElementOut})
def element_create(request, kind: str, payload: ElementIn):
    _model, create, _update, _archive, _name = _kind(kind)
    obj = create(actor=request.user, **payload.dict(exclude_unset=True))
    return Status(201, element_out(obj))


@router.get("/households/{int:element_id}/members", response=list[ResidentOut])
def household_members(request, element_id: int):
    _household, members = selectors.household_view(actor=request.user, id=element_id)
    return [resident_masked(m) for m in members]


@router.get("/{kind}/{int:element_id}", response=ElementOut)
def element_detail(request, kind: str, element_id: int):
    model = _kind(kind)[0]
    return element_out(selectors.element_access(actor=request.user, model=model, id=element_id))


@router.patch("/{kind}/{int:element_id}", response=ElementOut)
def element_update(request, kind: str, element_id: int, payload: ElementIn):
    model, _create, update, _archive, name = _kind(kind)
    obj = selectors.element_access(actor=request.user, model=model, id=element_id)
    update(actor=request.user, **{name: obj}, **payload.dict(exclude_unset=True))
    return element_out(obj)


@router.post("/{kind}/{int:element_id}/archive", response=ElementOut)
def element_archive(request, kind: str, element_id: int):
    model, _create, _update, archive, name = _kind(kind)
    obj = selectors.element_access(actor=request.user, model=model, id=element_id)
    archive(actor=request.user, **{name: obj})
    return element_out(obj)
