"""The rates that rank everyone, one function each, used by desks, API, brains and tests.

Definitions (for cases reported, or closed, within [start, end) in a part of the tree or for a
department):
- response rate: of cases reported, the share first responded to (accepted, dispatched,
  started or checked in) by the response deadline.
- on-time rate: of cases closed (办结, any honest outcome), the share closed by the resolution
  deadline.
- completion rate (办结率): of cases reported and taken on (not rejected as invalid/duplicate),
  the share closed.
- solved rate: of cases closed, the share whose outcome is 已解决. Completion counts honest
  closures; this counts only real solutions.
- satisfaction rate: of rated closed cases, the share rated 满意 or 基本满意.
- average handling hours: mean time from report to closure of cases closed.
- reopen rate: of cases closed, the share reopened at least once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet

from .models import Case
from .states import Outcome, Satisfaction, State


@dataclass(frozen=True)
class Where:
    """A part of the tree or a department. Empty means the whole district."""

    street_id: int | None = None
    community_id: int | None = None
    grid_id: int | None = None
    department_id: int | None = None

    def filter(self, qs: QuerySet) -> QuerySet:
        if self.grid_id:
            qs = qs.filter(grid_id=self.grid_id)
        if self.community_id:
            qs = qs.filter(community_id=self.community_id)
        if self.street_id:
            qs = qs.filter(street_id=self.street_id)
        if self.department_id:
            qs = qs.filter(assignments__department_id=self.department_id).distinct()
        return qs


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _reported(where: Where, start: datetime, end: datetime) -> QuerySet:
    return where.filter(Case.objects.filter(reported_at__gte=start, reported_at__lt=end))


def _closed(where: Where, start: datetime, end: datetime) -> QuerySet:
    return where.filter(
        Case.objects.filter(state=State.CLOSED, closed_at__gte=start, closed_at__lt=end)
    )


def response_rate(where: Where, start: datetime, end: datetime) -> float | None:
    qs = _reported(where, start, end)
    agg = qs.aggregate(
        n=Count("id", distinct=True),
        ok=Count("id", filter=Q(responded_at__lte=F("response_due")), distinct=True),
    )
    return _ratio(agg["ok"], agg["n"])


def on_time_rate(where: Where, start: datetime, end: datetime) -> float | None:
    agg = _closed(where, start, end).aggregate(
        n=Count("id", distinct=True),
        ok=Count("id", filter=Q(closed_at__lte=F("resolve_due")), distinct=True),
    )
    return _ratio(agg["ok"], agg["n"])


def completion_rate(where: Where, start: datetime, end: datetime) -> float | None:
    qs = _reported(where, start, end).exclude(
        state=State.REJECTED, outcome__in=[Outcome.INVALID, Outcome.DUPLICATE]
    )
    agg = qs.aggregate(
        n=Count("id", distinct=True), ok=Count("id", filter=Q(state=State.CLOSED), distinct=True)
    )
    return _ratio(agg["ok"], agg["n"])


def solved_rate(where: Where, start: datetime, end: datetime) -> float | None:
    agg = _closed(where, start, end).aggregate(
        n=Count("id", distinct=True),
        ok=Count("id", filter=Q(outcome=Outcome.SOLVED), distinct=True),
    )
    return _ratio(agg["ok"], agg["n"])


def satisfaction_rate(where: Where, start: datetime, end: datetime) -> float | None:
    rated = _closed(where, start, end).exclude(satisfaction="")
    agg = rated.aggregate(
        n=Count("id", distinct=True),
        ok=Count(
            "id",
            filter=Q(satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASIC]),
            distinct=True,
        ),
    )
    return _ratio(agg["ok"], agg["n"])


def average_handling_hours(where: Where, start: datetime, end: datetime) -> float | None:
    duration = ExpressionWrapper(F("closed_at") - F("reported_at"), output_field=DurationField())
    value = _closed(where, start, end).aggregate(avg=Avg(duration))["avg"]
    return round(value.total_seconds() / 3600, 2) if value is not None else None


def reopen_rate(where: Where, start: datetime, end: datetime) -> float | None:
    agg = _closed(where, start, end).aggregate(
        n=Count("id", distinct=True), ok=Count("id", filter=Q(reopen_count__gt=0), distinct=True)
    )
    return _ratio(agg["ok"], agg["n"])


RATES = {
    "response_rate": response_rate,
    "on_time_rate": on_time_rate,
    "completion_rate": completion_rate,
    "solved_rate": solved_rate,
    "satisfaction_rate": satisfaction_rate,
    "average_handling_hours": average_handling_hours,
    "reopen_rate": reopen_rate,
}


def all_rates(where: Where, start: datetime, end: datetime) -> dict[str, float | None]:
    return {name: fn(where, start, end) for name, fn in RATES.items()}
