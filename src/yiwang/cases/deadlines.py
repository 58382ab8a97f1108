"""Deadlines in working hours on the district's calendar, and the worker tick that warns before
they pass and escalates after."""

from __future__ import annotations

import logging
import time as _time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .workcalendar import WorkCalendar, deadline

log = logging.getLogger(__name__)

_cache: dict = {"calendar": None, "until": 0.0}
WARN_SHARE = 0.2  # warn when a fifth of the allowed time is left


def reset_calendar() -> None:
    _cache["calendar"], _cache["until"] = None, 0.0


def calendar() -> WorkCalendar:
    """The calendar from the CalendarDay table; re-read every minute (other processes edit it)."""
    now = _time.monotonic()
    if _cache["calendar"] is not None and now < _cache["until"]:
        return _cache["calendar"]
    from .models import CalendarDay

    days = list(CalendarDay.objects.values_list("date", "is_workday"))
    cal = WorkCalendar(
        holidays=frozenset(d for d, work in days if not work),
        workdays=frozenset(d for d, work in days if work),
    )
    _cache["calendar"], _cache["until"] = cal, now + 60
    return cal


def deadline_for(start, hours: float, working: bool):
    return deadline(start, hours, working=working, calendar=calendar())


def deadline_tick(now=None) -> dict:
    """Warns handlers before a deadline; after it, marks the case overdue and escalates it one
    level. Each case is handled once per expiry (flags), so several workers may run this."""
    from . import events
    from .models import Assignment, Case
    from .notify import desk
    from .services import case_escalate
    from .states import OPEN_STATES, Action, State

    now = now or timezone.now()
    counts = {"warned": 0, "overdue": 0, "escalated": 0, "late_checkin": 0}
    # Not responded to in time: up one level.
    for case in Case.objects.filter(
        state__in=[State.REPORTED, State.ESCALATED, State.RETURNED],
        responded_at__isnull=True,
        response_due__lt=now,
    ).select_related("category")[:500]:
        with transaction.atomic():
            case_escalate(
                actor=None, case=case, reason=_("超过响应时限未受理,自动上报"), system=True
            )
            Case.objects.filter(id=case.id).update(
                response_due=deadline_for(
                    now, case.category.response_hours, case.category.working_hours
                )
            )
        counts["escalated"] += 1
    # Resolution deadline passed: overdue everywhere, and up one level.
    for case in Case.objects.filter(
        state__in=OPEN_STATES, is_overdue=False, resolve_due__lt=now
    ).select_related("category")[:500]:
        with transaction.atomic():
            updated = Case.objects.filter(id=case.id, is_overdue=False).update(is_overdue=True)
            if not updated:
                continue
            events.record(case, actor=None, action=Action.OVERDUE, note=_("已超过办结时限"), at=now)
            if case.state not in (State.REPLIED, State.VERIFIED):
                case_escalate(actor=None, case=case, reason=_("超过办结时限,自动上报"), system=True)
                counts["escalated"] += 1
        desk(case, _("%(n)s 已超期") % {"n": case.number})
        counts["overdue"] += 1
    # Warn before the deadline.
    for case in Case.objects.filter(
        state__in=OPEN_STATES, warned=False, is_overdue=False, resolve_due__gt=now
    ).only(
        "id",
        "reported_at",
        "resolve_due",
        "number",
        "level",
        "community_id",
        "grid_id",
        "street_id",
    )[:2000]:
        total = (case.resolve_due - case.reported_at).total_seconds()
        left = (case.resolve_due - now).total_seconds()
        if total > 0 and left <= WARN_SHARE * total:
            with transaction.atomic():
                if Case.objects.filter(id=case.id, warned=False).update(warned=True):
                    events.record(
                        case,
                        actor=None,
                        action=Action.WARN,
                        note=_("距办结时限不足 %(h).1f 小时") % {"h": left / 3600},
                        at=now,
                    )
                    desk(case, _("%(n)s 即将超期") % {"n": case.number})
                    counts["warned"] += 1
    # Departments that did not check in (报到) in time.
    for a in Assignment.objects.filter(
        status=Assignment.Status.PENDING, checkin_due__lt=now, case__state__in=OPEN_STATES
    ).select_related("case", "department")[:500]:
        if not a.case.events.filter(action=Action.OVERDUE, data__assignment=a.id).exists():
            events.record(
                a.case,
                actor=None,
                action=Action.OVERDUE,
                note=_("%(d)s 未按时报到") % {"d": a.department.name},
                data={"assignment": a.id},
                at=now,
            )
            counts["late_checkin"] += 1
    return counts


__all__ = ["deadline_for", "deadline_tick", "calendar", "timedelta"]
