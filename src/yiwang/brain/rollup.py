"""Roll-ups: per grid, category and local day, the counts every brain figure is made of.

Kept current incrementally: the case-event hook marks (grid, category, day) keys dirty in the
change's own transaction, the worker tick recounts them from the cases. Cases inserted without
events (bulk loads, the demo's history) are counted by `rollup_rebuild`. A key is always
recounted from the cases, never adjusted by deltas, so a recount is idempotent and a late or
repeated one is harmless."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncDate

from yiwang.cases.models import Case
from yiwang.cases.states import Mode, Outcome, Satisfaction, State
from yiwang.org.models import Grid

from .figures import microseconds
from .models import (
    ALL_FIGURES,
    DailyFigure,
    DirtyKey,
    GridDayFigure,
    GridMonthFigure,
    MonthlyFigure,
    StreetCategoryDayFigure,
    StreetCategoryMonthFigure,
)

log = logging.getLogger(__name__)
TZ = ZoneInfo(settings.TIME_ZONE)

# One definition of each count, used by the incremental recount and the rebuild alike; each
# matches the corresponding filter in cases.rates.
REPORTED_AGG = {
    "reported": Count("id"),
    "accepted": Count("id", filter=Q(responded_at__isnull=False)),
    "responded_on_time": Count("id", filter=Q(responded_at__lte=F("response_due"))),
    "taken_on": Count(
        "id", filter=~Q(state=State.REJECTED, outcome__in=[Outcome.INVALID, Outcome.DUPLICATE])
    ),
    "completed": Count("id", filter=Q(state=State.CLOSED)),
    "overdue": Count("id", filter=Q(is_overdue=True)),
    "top": Count("id", filter=Q(mode=Mode.TOP)),
}
CLOSED_AGG = {
    "closed": Count("id"),
    "closed_on_time": Count("id", filter=Q(closed_at__lte=F("resolve_due"))),
    "solved": Count("id", filter=Q(outcome=Outcome.SOLVED)),
    "rated": Count("id", filter=~Q(satisfaction="")),
    "satisfied": Count(
        "id", filter=Q(satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASIC])
    ),
    "unsatisfied": Count("id", filter=Q(satisfaction=Satisfaction.UNSATISFIED)),
    "reopened": Count("id", filter=Q(reopen_count__gt=0)),
    "handling": Sum(
        ExpressionWrapper(F("closed_at") - F("reported_at"), output_field=DurationField())
    ),
}


# "state = closed", written so that no planner reaches for the state index: at 5 M cases
# SQLite otherwise walks every closed case (case_desk_idx) instead of the closed_at range.
IS_CLOSED = ~Q(state__in=[s for s in State.values if s != State.CLOSED])


def local_day(at: datetime) -> date:
    return at.astimezone(TZ).date()


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, last+1 00:00) in local time: the instants of whole local days."""
    start = datetime.combine(first, time.min, tzinfo=TZ)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=TZ)
    return start, end


def month_of(day: date) -> date:
    return day.replace(day=1)


def _closed_row(agg: dict) -> dict:
    row = {k: agg[k] for k in CLOSED_AGG if k != "handling"}
    row["handling_us"] = microseconds(agg["handling"])
    return row


# -- the hook and the queue -------------------------------------------------------------------


def mark_dirty(case: Case, event) -> None:
    """Called in every case change's transaction: the days this case counts on (reported,
    closed, and the day it had closed before a reopen) must be recounted."""
    days = {local_day(case.reported_at)}
    if case.closed_at:
        days.add(local_day(case.closed_at))
    previous = (event.data or {}).get("previous_closed_at")
    if previous:
        days.add(local_day(datetime.fromisoformat(previous)))
    DirtyKey.objects.bulk_create(
        [DirtyKey(grid_id=case.grid_id, category_id=case.category_id, day=d) for d in days]
    )


def rollup_drain(*, batch: int = 2000) -> int:
    """Recounts up to `batch` dirty rows' keys; returns how many rows it consumed. Deletes
    exactly the rows it read, in the same transaction as the recount."""
    with transaction.atomic():
        rows = list(
            DirtyKey.objects.select_for_update(skip_locked=True)
            .order_by("id")
            .values_list("id", "grid_id", "category_id", "day")[:batch]
        )
        if not rows:
            return 0
        keys = {(g, c, d) for _id, g, c, d in rows}
        recount(keys)
        DirtyKey.objects.filter(id__in=[r[0] for r in rows]).delete()
    return len(rows)


def rollup_tick() -> int:
    total = 0
    while n := rollup_drain():
        total += n
    if total:
        log.info("brain: recounted %d dirty roll-up keys", total)
    return total


# -- recounting ---------------------------------------------------------------------------------


def _placement(grid_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    return {
        g: (c, s)
        for g, c, s in Grid.objects.filter(id__in=set(grid_ids)).values_list(
            "id", "community_id", "street_id"
        )
    }


def recount(keys: set[tuple[int, int, date]]) -> None:
    """Recounts each (grid, category, day) from the cases, then the months they fall in."""
    place = _placement(g for g, _c, _d in keys)
    for grid_id, category_id, day in sorted(keys):
        start, end = day_bounds(day, day)
        base = Case.objects.filter(grid_id=grid_id, category_id=category_id)
        row = base.filter(reported_at__gte=start, reported_at__lt=end).aggregate(**REPORTED_AGG)
        row |= _closed_row(
            base.filter(IS_CLOSED, closed_at__gte=start, closed_at__lt=end).aggregate(**CLOSED_AGG)
        )
        key = {"grid_id": grid_id, "category_id": category_id, "day": day}
        if not any(row.values()):
            DailyFigure.objects.filter(**key).delete()
            continue
        community_id, street_id = place[grid_id]
        updated = DailyFigure.objects.filter(**key).update(**row)
        if not updated:
            DailyFigure.objects.create(**key, **row, community_id=community_id, street_id=street_id)
    for grid_id, day in {(g, d) for g, _c, d in keys}:
        _recount_coarse(
            DailyFigure,
            GridDayFigure,
            {"grid_id": grid_id, "day": day},
            {"community_id": place[grid_id][0], "street_id": place[grid_id][1]},
        )
    for street_id, category_id, day in {(place[g][1], c, d) for g, c, d in keys}:
        _recount_coarse(
            DailyFigure,
            StreetCategoryDayFigure,
            {"street_id": street_id, "category_id": category_id, "day": day},
            {},
        )
    months = {(g, c, month_of(d)) for g, c, d in keys}
    for grid_id, category_id, month in months:
        _recount_month(grid_id, category_id, month, place[grid_id])
    for grid_id, month in {(g, m) for g, _c, m in months}:
        _recount_coarse(
            MonthlyFigure,
            GridMonthFigure,
            {"grid_id": grid_id, "month": month},
            {"community_id": place[grid_id][0], "street_id": place[grid_id][1]},
        )
    for street_id, category_id, month in {(place[g][1], c, m) for g, c, m in months}:
        _recount_coarse(
            MonthlyFigure,
            StreetCategoryMonthFigure,
            {"street_id": street_id, "category_id": category_id, "month": month},
            {},
        )


def _recount_coarse(source, model, key: dict, extra: dict) -> None:
    """A coarse row as the sum of its finer rows."""
    sums = source.objects.filter(**key).aggregate(**{f: Sum(f) for f in ALL_FIGURES})
    row = {f: sums[f] or 0 for f in ALL_FIGURES}
    if not any(row.values()):
        model.objects.filter(**key).delete()
    elif not model.objects.filter(**key).update(**row):
        model.objects.create(**key, **extra, **row)


def _recount_month(grid_id: int, category_id: int, month: date, place: tuple[int, int]) -> None:
    next_month = (month + timedelta(days=32)).replace(day=1)
    sums = DailyFigure.objects.filter(
        grid_id=grid_id, category_id=category_id, day__gte=month, day__lt=next_month
    ).aggregate(**{f: Sum(f) for f in ALL_FIGURES})
    row = {f: sums[f] or 0 for f in ALL_FIGURES}
    key = {"grid_id": grid_id, "category_id": category_id, "month": month}
    if not any(row.values()):
        MonthlyFigure.objects.filter(**key).delete()
    elif not MonthlyFigure.objects.filter(**key).update(**row):
        MonthlyFigure.objects.create(**key, **row, community_id=place[0], street_id=place[1])


# -- rebuild --------------------------------------------------------------------------------------


def _months_between(first: date, last: date) -> list[date]:
    months, m = [], month_of(first)
    while m <= last:
        months.append(m)
        m = (m + timedelta(days=32)).replace(day=1)
    return months


def rollup_rebuild(*, progress: Callable[[int, int], None] | None = None) -> int:
    """Recounts every figure from the cases, a month at a time (two grouped queries per
    month), replacing what was there. Returns the number of daily rows written. Keys marked
    dirty before the rebuild started are dropped: the rebuild counted them."""
    high = DirtyKey.objects.order_by("-id").values_list("id", flat=True).first()
    bounds = Case.objects.order_by("reported_at").values_list("reported_at", flat=True)
    first = bounds.first()
    place = _placement(Grid.objects.values_list("id", flat=True))
    with transaction.atomic():
        DailyFigure.objects.all().delete()
        MonthlyFigure.objects.all().delete()
        for model in COARSE:
            model.objects.all().delete()
        if high is not None:
            DirtyKey.objects.filter(id__lte=high).delete()
    if first is None:
        return 0
    last_closed = (
        Case.objects.filter(closed_at__isnull=False)
        .order_by("-closed_at")
        .values_list("closed_at", flat=True)
        .first()
    )
    last = max(
        local_day(bounds.last()), local_day(last_closed) if last_closed else local_day(first)
    )
    months = _months_between(local_day(first), last)
    written = 0
    for i, month in enumerate(months):
        with transaction.atomic():
            written += _rebuild_month(month, place)
        if progress:
            progress(i + 1, len(months))
    rollup_rebuild_coarse()
    return written


# Coarse table → (the finer table it sums, the columns it keeps).
COARSE = {
    GridDayFigure: (DailyFigure, ("grid_id", "community_id", "street_id", "day")),
    StreetCategoryDayFigure: (DailyFigure, ("street_id", "category_id", "day")),
    GridMonthFigure: (MonthlyFigure, ("grid_id", "community_id", "street_id", "month")),
    StreetCategoryMonthFigure: (MonthlyFigure, ("street_id", "category_id", "month")),
}


def rollup_rebuild_coarse() -> None:
    """Derives the coarse tables from the fine ones in the database (INSERT … SELECT … GROUP
    BY: no case is read and no row passes through Python)."""
    sums = ", ".join(f"SUM({f})" for f in ALL_FIGURES)
    figures = ", ".join(ALL_FIGURES)
    for model, (source, keys) in COARSE.items():
        columns = ", ".join(keys)
        # Table and column names are our own constants; there are no values to bind.
        sql = (
            f"INSERT INTO {model._meta.db_table} ({columns}, {figures}) "  # noqa: S608
            f"SELECT {columns}, {sums} FROM {source._meta.db_table} GROUP BY {columns}"
        )
        with transaction.atomic():
            model.objects.all().delete()
            with connection.cursor() as cur:
                cur.execute(sql)


def _rebuild_month(month: date, place: dict[int, tuple[int, int]]) -> int:
    next_month = (month + timedelta(days=32)).replace(day=1)
    start, end = day_bounds(month, next_month - timedelta(days=1))
    rows: dict[tuple[int, int, date], dict] = defaultdict(dict)
    reported = (
        Case.objects.filter(reported_at__gte=start, reported_at__lt=end)
        .annotate(d=TruncDate("reported_at", tzinfo=TZ))
        .values("grid_id", "category_id", "d")
        .annotate(**REPORTED_AGG)
        .order_by()
    )
    for r in reported:
        rows[(r["grid_id"], r["category_id"], r["d"])].update({k: r[k] for k in REPORTED_AGG})
    closed = (
        Case.objects.filter(IS_CLOSED, closed_at__gte=start, closed_at__lt=end)
        .annotate(d=TruncDate("closed_at", tzinfo=TZ))
        .values("grid_id", "category_id", "d")
        .annotate(**CLOSED_AGG)
        .order_by()
    )
    for r in closed:
        rows[(r["grid_id"], r["category_id"], r["d"])].update(_closed_row(r))
    daily, monthly = [], {}
    for (grid_id, category_id, day), counts in rows.items():
        community_id, street_id = place[grid_id]
        daily.append(
            DailyFigure(
                grid_id=grid_id,
                category_id=category_id,
                day=day,
                community_id=community_id,
                street_id=street_id,
                **counts,
            )  # fmt: skip
        )
        m = monthly.get((grid_id, category_id))
        if m is None:
            m = monthly[(grid_id, category_id)] = MonthlyFigure(
                grid_id=grid_id, category_id=category_id, month=month,
                community_id=community_id, street_id=street_id,
            )  # fmt: skip
        for k, v in counts.items():
            setattr(m, k, getattr(m, k) + v)
    DailyFigure.objects.bulk_create(daily, batch_size=2000)
    MonthlyFigure.objects.bulk_create(list(monthly.values()), batch_size=2000)
    return len(daily)
