"""Reading what people typed into the matching pages: each helper returns a clean value or
raises a ValidationError that names the field, so a bad date or number is shown next to its
input and never becomes a 500. No business rules here: those live in the services."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _


def errors_of(exc: ValidationError, fields=()) -> dict[str, list[str]]:
    """A service's ValidationError as {field: [messages]}; messages naming no field, or one the
    form does not show (when `fields` is given), go under "form" to be shown above it."""
    found = exc.message_dict if hasattr(exc, "error_dict") else {"form": exc.messages}
    out: dict[str, list[str]] = {}
    for key, messages in found.items():
        if key == "__all__" or (fields and key not in fields):
            key = "form"
        out.setdefault(key, []).extend(messages)
    return out


# Dates people type for this system's work; outside this, a typo (and a database overflow).
MIN_YEAR, MAX_YEAR = 1900, 2200


def local_datetime(value: str | None, field: str, *, required: bool = True) -> datetime | None:
    """A datetime-local input ("2026-12-01T09:30"), read in the district's time zone."""
    value = (value or "").strip()
    if not value:
        if required:
            raise ValidationError({field: [_("请填写时间")]})
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError({field: [_("时间格式不正确,应如 2026-12-01 09:30")]}) from None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ValidationError({field: [_("时间超出合理范围")]})
    if parsed.tzinfo is None:
        parsed = timezone.make_aware(parsed, timezone.get_current_timezone())
    return parsed


def local_date(value: str | None, field: str, *, required: bool = False) -> date | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise ValidationError({field: [_("请填写日期")]})
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise ValidationError({field: [_("日期格式不正确,应如 2026-12-01")]}) from None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ValidationError({field: [_("日期超出合理范围")]})
    return parsed


def number_text(value, field: str) -> str | None:
    """A typed amount or duration, passed on as text for the service to range-check; anything
    that is not a finite number (letters, "NaN", "Infinity") is refused here by its field."""
    value = str(value or "").strip()
    if not value:
        return None
    try:
        finite = Decimal(value).is_finite()
    except (InvalidOperation, ValueError):
        finite = False
    if not finite:
        raise ValidationError({field: [_("请填写数字")]})
    return value


def int_or_none(value) -> int | None:
    """A filter or id parameter: a positive integer, or None for anything else."""
    value = str(value or "").strip()
    return int(value) if value.isdigit() and len(value) < 12 else None


def ids(values) -> list[int]:
    return [i for i in (int_or_none(v) for v in values) if i is not None]


def dt_input(value: datetime | None) -> str:
    """The value of a datetime-local input for an aware datetime."""
    return f"{timezone.localtime(value):%Y-%m-%dT%H:%M}" if value else ""


MILESTONE_RE = re.compile(r"^(?P<title>.+?)\s+(?P<due>\d{4}-\d{1,2}-\d{1,2})$")


def milestone_lines(text: str) -> list[tuple[str, date | None]]:
    """ "方案设计 2026-12-20" one per line → [(title, due)]; the date is optional."""
    out = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        m = MILESTONE_RE.match(line)
        if not m:
            out.append((line[:100], None))
            continue
        try:
            due = date.fromisoformat(
                "-".join(f"{int(p):02d}" if i else p for i, p in enumerate(m["due"].split("-")))
            )
        except ValueError:
            raise ValidationError(
                {"milestones": [_("第 %(n)s 行的日期不正确") % {"n": n}]}
            ) from None
        out.append((m["title"].strip()[:100], due))
    return out


def area_value(level: str, node_id: int) -> str:
    return f"{level}:{node_id}"


def area_parse(values, allowed: set[str]) -> list[tuple[str, int]]:
    """Selected service areas ("grid:12") checked against the options the actor was offered."""
    out = []
    for value in values:
        if value not in allowed:
            raise ValidationError({"areas": [_("服务范围超出您的管辖范围")]})
        level, _sep, node = value.partition(":")
        out.append((level, int(node)))
    return out
