"""Export of any filtered list of residents to xlsx / csv: scoped like the list, masked unless
the exporter has the right to reveal and asks to with a reason, logged as one access-log row,
and the file's first line names the exporter and the time."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.common.export import write_rows
from yiwang.org.permissions import EXPORT_PERSONAL, REVEAL_PERSONAL, has_permission

from .idcard import id_mask, phone_mask
from .models import AccessLog
from .privacy import PURPOSES, access_log_write, purpose_clean
from .selectors import ResidentFilter, resident_queryset

HEADERS = [
    "姓名", "性别", "出生日期", "身份证号", "联系电话", "住址", "网格", "户籍地", "人口类型", "民族",
    "政治面貌", "特殊人群", "工作单位", "与户主关系", "备注",
]  # fmt: skip
MAX_EXPORT = 2_000_000


def _name(actor) -> str:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return "system"
    full = actor.get_full_name()
    return f"{full} ({actor.get_username()})" if full else actor.get_username()


def residents_export(
    *,
    actor,
    f: ResidentFilter,
    path: str | Path,
    purpose: str | None,
    reason: str | None = "",
    reveal: bool = False,
    channel: str = "api",
) -> int:
    """Writes the actor's filtered residents to `path` (.xlsx or .csv); returns the count."""
    if actor is not None and not has_permission(actor, EXPORT_PERSONAL):
        raise PermissionDenied(EXPORT_PERSONAL)
    purpose, reason = purpose_clean(purpose, reason, required=True)
    if reveal:
        if actor is not None and not has_permission(actor, REVEAL_PERSONAL):
            raise PermissionDenied(REVEAL_PERSONAL)
        if len(reason) < 2:
            raise ValidationError({"reason": [_("导出明文须填写事由")]})
    qs = (
        resident_queryset(actor=actor, f=f)
        .select_related("grid")
        .prefetch_related("tags")
        .order_by("id")
    )
    now = timezone.localtime()
    banner = _("导出人: %(who)s;导出时间: %(at)s;用途: %(purpose)s%(masked)s") % {
        "who": _name(actor),
        "at": now.strftime("%Y-%m-%d %H:%M:%S"),
        "purpose": str(PURPOSES[purpose]) + (f" ({reason})" if reason else ""),
        "masked": "" if reveal else _(";身份证号和电话已脱敏"),
    }
    count = {"n": 0}

    def rows():
        yield HEADERS
        for r in qs.iterator(chunk_size=2000):
            count["n"] += 1
            phones = r.phones or []
            yield [
                r.name,
                r.get_gender_display() if r.gender else "",
                r.birth_date.isoformat() if r.birth_date else "",
                r.id_number if reveal else id_mask(r.id_number),
                "、".join(phones if reveal else [phone_mask(p) for p in phones]),
                r.address,
                r.grid.name if r.grid_id else "",
                r.hukou_address,
                r.get_residence_type_display(),
                r.ethnic_group,
                "党员" if r.is_party_member else "",
                "、".join(t.name for t in r.tags.all()),
                r.workplace,
                r.relation_to_head,
                r.notes,
            ]

    write_rows(rows(), path, title="居民", banner=banner)
    access_log_write(
        actor=actor,
        action=AccessLog.Action.EXPORT,
        purpose=purpose,
        reason=reason,
        filter={**f.as_log(), "format": Path(path).suffix.lstrip("."), "revealed": reveal},
        record_count=count["n"],
        channel=channel,
    )
    return count["n"]
