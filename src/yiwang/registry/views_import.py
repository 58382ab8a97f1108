"""The import page: upload a residents spreadsheet, which becomes a background job (jobs.py);
the job's page shows its progress while it runs (with a button to cancel it) and its report
when it is done."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from yiwang.org.permissions import IMPORT_REGISTRY, has_permission

from .jobs import (
    MAX_UPLOAD_BYTES,
    ImportInputError,
    ImportJobStateError,
    import_job_access,
    import_job_cancel,
    import_job_cancellable,
    import_job_list,
    import_job_progress,
    import_job_progress_text,
    import_job_start,
)


@login_required
def resident_import(request):
    if not has_permission(request.user, IMPORT_REGISTRY):
        raise PermissionDenied(IMPORT_REGISTRY)
    error = None
    source = "import"
    commit = False
    if request.method == "POST":
        source = (request.POST.get("source") or "import")[:40]
        commit = request.POST.get("commit") == "1"
        try:
            job = import_job_start(
                actor=request.user,
                upload_file=request.FILES.get("file"),
                source=source,
                commit=commit,
            )
        except ImportInputError as exc:
            error = str(exc)
        else:
            return redirect("registry:resident_import_job", job_id=job.id)
    return render(
        request,
        "registry/resident_import.html",
        {
            "title": _("导入居民"),
            "error": error,
            "source": source,
            "commit": commit,
            "jobs": import_job_list(actor=request.user),
            "max_bytes": MAX_UPLOAD_BYTES,
            "max_mb": MAX_UPLOAD_BYTES // 1024 // 1024,
        },
        status=400 if error else 200,
    )


def _job_page(request, job, *, error: str | None = None, status: int = 200):
    return render(
        request,
        "registry/import_job.html",
        {
            "title": _("导入任务"),
            "job": job,
            "report": job.report if job.status == job.Status.DONE else None,
            "progress_text": import_job_progress_text(job),
            "cancellable": import_job_cancellable(job),
            "error": error,
        },
        status=status,
    )


@login_required
@require_GET
def resident_import_job(request, job_id: int):
    return _job_page(request, import_job_access(actor=request.user, id=job_id))


@login_required
@require_POST
def resident_import_cancel(request, job_id: int):
    job = import_job_access(actor=request.user, id=job_id)
    try:
        import_job_cancel(actor=request.user, job=job)
    except ImportJobStateError as exc:
        return _job_page(request, job, error=str(exc), status=409)
    return redirect("registry:resident_import_job", job_id=job.id)


@login_required
@require_GET
def resident_import_progress(request, job_id: int):
    job = import_job_access(actor=request.user, id=job_id)
    response = JsonResponse(import_job_progress(job))
    response["Cache-Control"] = "no-store"
    return response
