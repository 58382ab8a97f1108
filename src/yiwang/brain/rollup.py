"""Roll-ups: per grid, category and local day, the counts every brain figure is made of.

Kept current incrementally: the case-event hook marks (grid, category, day) keys dirty in the
change's own transaction, the worker tick recounts them from the cases. Cases inserted without
events (bulk loads, the demo's history) are counted by `rollup_rebuild`. A key is always
recounted from the cases, never adjusted by deltas, so a recount is idempotent and a late or
repeated one is harmless."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, Sum

from yiwang.cases.models import Case
from yiwang.cases.states import State
from yiwang.org.models import Grid

from . import sql
from .models import (
    ALL_FIGURES,
    DailyFigure,
    DepartmentDayFigure,
    DepartmentMonthFigure,
    DirtyKey,
    GridDayFigure,
    GridMonthFigure,
    MonthlyFigure,
    PlaceMonthFigure,
    StreetCategoryDayFigure,
    StreetCategoryMonthFigure,
)

log = logging.getLogger(__name__)
TZ = ZoneInfo(settings.TIME_ZONE)

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
    """Recounts each (grid, category, day) from the cases, then what it is part of: the
    coarse and monthly rows, the departments' rows of the grid's community that day, and the
    places of the grid and category that month."""
    place = _placement(g for g, _c, _d in keys)
    daily, keys_daily, join = sql.DAILY
    for grid_id, category_id, day in sorted(keys):
        start, end = day_bounds(day, day)
        DailyFigure.objects.filter(grid_id=grid_id, category_id=category_id, day=day).delete()
        sql.insert_figures(
            daily, keys_daily, start=start, end=end, day=day, join=join,
            where=" AND c.grid_id = %s AND c.category_id = %s", params=(grid_id, category_id),
        )  # fmt: skip
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
    _recount_departments({(place[g][0], d) for g, _c, d in keys})
    for grid_id, category_id, month in months:
        _recount_places(grid_id, category_id, month)


def _recount_departments(keys: set[tuple[int, date]]) -> None:
    """The departments' rows of each (community, day), and of the months they fall in."""
    model, keys_sql, join = sql.DEPARTMENT_DAILY
    for community_id, day in sorted(keys):
        start, end = day_bounds(day, day)
        DepartmentDayFigure.objects.filter(community_id=community_id, day=day).delete()
        sql.insert_figures(
            model, keys_sql, start=start, end=end, day=day, join=join,
            where=" AND g.community_id = %s", params=(community_id,),
        )  # fmt: skip
    source, columns = sql.MONTHLY_FROM_DAILY[DepartmentMonthFigure]
    for community_id, month in {(c, month_of(d)) for c, d in keys}:
        DepartmentMonthFigure.objects.filter(community_id=community_id, month=month).delete()
        sql.insert_months(
            source, DepartmentMonthFigure, columns, month=month,
            where=" AND community_id = %s", params=(community_id,),
        )  # fmt: skip


def _recount_places(grid_id: int, category_id: int, month: date) -> None:
    next_month = (month + timedelta(days=32)).replace(day=1)
    start, end = day_bounds(month, next_month - timedelta(days=1))
    PlaceMonthFigure.objects.filter(grid_id=grid_id, category_id=category_id, month=month).delete()
    sql.insert_places(
        month=month, start=start, end=end,
        where=" AND c.grid_id = %s AND c.category_id = %s", params=(grid_id, category_id),
    )  # fmt: skip


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


# Everything the rebuild replaces, finest first.
REBUILT = (
    DailyFigure, MonthlyFigure, DepartmentDayFigure, DepartmentMonthFigure, PlaceMonthFigure,
)  # fmt: skip


def _empty(models) -> None:
    if connection.vendor == "postgresql":
        tables = ", ".join(m._meta.db_table for m in models)
        with connection.cursor() as cur:
            cur.execute(f"TRUNCATE {tables}")  # our own table names
    else:
        for model in models:
            model.objects.all().delete()  # one DELETE without WHERE: SQLite truncates


def rollup_rebuild(*, progress: Callable[[int, int], None] | None = None) -> int:
    """Recounts every figure from the cases, a local month at a time, in the database (INSERT
    … SELECT … GROUP BY: no case passes through Python), replacing what was there. Returns
    the number of daily rows written. Keys marked dirty before the rebuild started are
    dropped: the rebuild counted them."""
    high = DirtyKey.objects.order_by("-id").values_list("id", flat=True).first()
    bounds = Case.objects.order_by("reported_at").values_list("reported_at", flat=True)
    first = bounds.first()
    with transaction.atomic():
        _empty((*REBUILT, *COARSE))
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
    for i, month in enumerate(months):
        with transaction.atomic():
            _rebuild_month(month)
        if progress:
            progress(i + 1, len(months))
    rollup_rebuild_coarse()
    _analyze((*REBUILT, *COARSE))
    return DailyFigure.objects.count()


def _analyze(models) -> None:
    """Fresh planner statistics for the refilled tables (our own table names)."""
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("PRAGMA analysis_limit=2000")
        for model in models:
            cur.execute(f"ANALYZE {model._meta.db_table}")


def _rebuild_month(month: date) -> None:
    next_month = (month + timedelta(days=32)).replace(day=1)
    start, end = day_bounds(month, next_month - timedelta(days=1))
    for model, keys, join in (sql.DAILY, sql.DEPARTMENT_DAILY):
        sql.insert_figures(model, keys, start=start, end=end, day=None, join=join)
    for model, (source, columns) in sql.MONTHLY_FROM_DAILY.items():
        sql.insert_months(source, model, columns, month=month)
    sql.insert_places(month=month, start=start, end=end)


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
