"""The import page: upload a residents spreadsheet, check it, and (ticked) write it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _

from yiwang.org.permissions import IMPORT_REGISTRY, has_permission

from .importer import residents_import


@login_required
def resident_import(request):
    if not has_permission(request.user, IMPORT_REGISTRY):
        raise PermissionDenied(IMPORT_REGISTRY)
    report = None
    if request.method == "POST" and request.FILES.get("file"):
        upload = request.FILES["file"]
        suffix = Path(upload.name).suffix.lower() or ".csv"
        fd, name = tempfile.mkstemp(suffix=suffix)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            report = residents_import(
                actor=request.user,
                path=name,
                source=(request.POST.get("source") or "import")[:40],
                commit=request.POST.get("commit") == "1",
            )
        finally:
            os.unlink(name)
    return render(
        request,
        "registry/resident_import.html",
        {"report": report, "title": _("导入居民")},
    )
