"""The roll-ups' counts as set-based SQL (INSERT … SELECT … GROUP BY): one definition of each
count, used by the incremental recount and the rebuild alike, so no case passes through
Python. Each count matches the corresponding filter in cases.rates (the tests prove it).

Every piece of SQL here is built from our own constants (table, column and state names);
values (ids, days, instants) always go in as parameters."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection

from yiwang.cases.models import Assignment, Case
from yiwang.cases.states import Mode, Outcome, Satisfaction, State
from yiwang.org.models import Grid

from .models import (
    ALL_FIGURES,
    CLOSED_COUNTS,
    REPORTED_COUNTS,
    DailyFigure,
    DepartmentDayFigure,
    DepartmentMonthFigure,
    MonthlyFigure,
    PlaceMonthFigure,
)

CASES = Case._meta.db_table
GRIDS = Grid._meta.db_table
ASSIGNMENTS = Assignment._meta.db_table


def _lit(*values: str) -> str:
    """Our own constants as SQL string literals (checked: letters, digits, _ / + - only)."""
    texts = [str(getattr(v, "value", v)) for v in values]
    for v in texts:
        if not re.fullmatch(r"[A-Za-z0-9_/+\-]*", v):
            raise ValueError(v)
    return ", ".join(f"'{v}'" for v in texts)


TZNAME = settings.TIME_ZONE
_lit(TZNAME)

# Per case, the 0/1 (or microseconds) it adds to each figure.
REPORTED_SQL = {
    "reported": "1",
    "accepted": "CASE WHEN c.responded_at IS NOT NULL THEN 1 ELSE 0 END",
    "responded_on_time": "CASE WHEN c.responded_at <= c.response_due THEN 1 ELSE 0 END",
    "taken_on": (
        f"CASE WHEN c.state = {_lit(State.REJECTED)} AND c.outcome IN "
        f"({_lit(Outcome.INVALID, Outcome.DUPLICATE)}) THEN 0 ELSE 1 END"
    ),
    "completed": f"CASE WHEN c.state = {_lit(State.CLOSED)} THEN 1 ELSE 0 END",
    "overdue": "CASE WHEN c.is_overdue THEN 1 ELSE 0 END",
    "top": f"CASE WHEN c.mode = {_lit(Mode.TOP)} THEN 1 ELSE 0 END",
}
CLOSED_SQL = {
    "closed": "1",
    "closed_on_time": "CASE WHEN c.closed_at <= c.resolve_due THEN 1 ELSE 0 END",
    "solved": f"CASE WHEN c.outcome = {_lit(Outcome.SOLVED)} THEN 1 ELSE 0 END",
    "rated": "CASE WHEN c.satisfaction <> '' THEN 1 ELSE 0 END",
    "satisfied": (
        f"CASE WHEN c.satisfaction IN ({_lit(Satisfaction.SATISFIED, Satisfaction.BASIC)}) "
        "THEN 1 ELSE 0 END"
    ),
    "unsatisfied": f"CASE WHEN c.satisfaction = {_lit(Satisfaction.UNSATISFIED)} THEN 1 ELSE 0 END",
    "reopened": "CASE WHEN c.reopen_count > 0 THEN 1 ELSE 0 END",
}
assert tuple(REPORTED_SQL) == REPORTED_COUNTS and tuple(CLOSED_SQL) == CLOSED_COUNTS


def _pg() -> bool:
    return connection.vendor == "postgresql"


def handling_sql() -> str:
    """closed_at - reported_at in whole microseconds, exactly (no floating point)."""
    if _pg():
        return "(EXTRACT(EPOCH FROM (c.closed_at - c.reported_at)) * 1000000)::bigint"
    # SQLite keeps UTC text 'YYYY-MM-DD HH:MM:SS[.ffffff]': whole seconds plus the fraction.
    return (
        "((CAST(strftime('%%s', c.closed_at) AS INTEGER)"
        " - CAST(strftime('%%s', c.reported_at) AS INTEGER)) * 1000000"
        " + CAST(substr(c.closed_at, 21, 6) AS INTEGER)"
        " - CAST(substr(c.reported_at, 21, 6) AS INTEGER))"
    )


def local_day_sql(column: str, start: datetime, end: datetime) -> str:
    """The local date of `column` for instants in [start, end)."""
    if _pg():
        return f"({column} AT TIME ZONE {_lit(TZNAME)})::date"
    first = start.utcoffset()
    last = (end - timedelta(microseconds=1)).astimezone(start.tzinfo).utcoffset()
    if first == last:  # no clock change inside: SQLite's own date arithmetic
        minutes = int(first.total_seconds() // 60)
        return f"date({column}, '{minutes:+d} minutes')"
    return f"django_datetime_cast_date({column}, {_lit(TZNAME)}, 'UTC')"


def _closed_state() -> str:
    # On SQLite "+" keeps the planner off the state indexes (at 5 M cases it otherwise walks
    # every closed case instead of the closed_at range).
    return f"{'' if _pg() else '+'}c.state = {_lit(State.CLOSED)}"


def ts(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


def dt(value: date):
    return connection.ops.adapt_datefield_value(value)


# The key columns each case-level roll-up groups by, and the joins they need.
DAILY_KEYS = {
    "grid_id": "c.grid_id",
    "category_id": "c.category_id",
    "community_id": "g.community_id",
    "street_id": "g.street_id",
}
DEPARTMENT_KEYS = {
    "department_id": "a.department_id",
    "community_id": "g.community_id",
    "street_id": "g.street_id",
}
# A case counts once per department however many assignments that department has in it.
DEPARTMENT_JOIN = (
    f" JOIN {ASSIGNMENTS} a ON a.case_id = c.id AND NOT EXISTS (SELECT 1 FROM {ASSIGNMENTS} a2"  # noqa: S608
    " WHERE a2.case_id = a.case_id AND a2.department_id = a.department_id AND a2.id < a.id)"
)


def _cases_union(
    keys: dict[str, str], *, start: datetime, end: datetime, day: date | None,
    where: str, params: tuple, join: str,
) -> tuple[str, list]:  # fmt: skip
    """One row per case reported, and per case closed, in [start, end): its key columns, its
    local day (`day` when the range is that one day) and what it adds to each figure."""
    zeros_closed = ", ".join(f"0 AS {f}" for f in (*CLOSED_COUNTS, "handling_us"))
    zeros_reported = ", ".join(f"0 AS {f}" for f in REPORTED_COUNTS)
    key_cols = ", ".join(f"{expr} AS {name}" for name, expr in keys.items())
    base = f" FROM {CASES} c JOIN {GRIDS} g ON g.id = c.grid_id{join} WHERE "
    if day is None:
        day_reported = local_day_sql("c.reported_at", start, end)
        day_closed = local_day_sql("c.closed_at", start, end)
        day_params: list = []
    else:
        day_reported = day_closed = "%s"
        day_params = [dt(day)]
    reported = ", ".join(f"{expr} AS {name}" for name, expr in REPORTED_SQL.items())
    closed = ", ".join(f"{expr} AS {name}" for name, expr in CLOSED_SQL.items())
    inner = (
        f"SELECT {key_cols}, {day_reported} AS day, {reported}, {zeros_closed}{base}"
        f"c.reported_at >= %s AND c.reported_at < %s{where}"
        f" UNION ALL SELECT {key_cols}, {day_closed} AS day, {zeros_reported}, {closed}, "
        f"{handling_sql()} AS handling_us{base}{_closed_state()}"
        f" AND c.closed_at >= %s AND c.closed_at < %s{where}"
    )
    bounds = [ts(start), ts(end)]
    return inner, [*day_params, *bounds, *params, *day_params, *bounds, *params]


SUMS_SQL = ", ".join(f"SUM({f})" for f in ALL_FIGURES)


def insert_figures(
    model, keys: dict[str, str], *, start: datetime, end: datetime, day: date | None,
    where: str = "", params: tuple = (), join: str = "",
) -> None:  # fmt: skip
    """Inserts `model`'s rows for the cases reported, or closed, in [start, end), grouped by
    `keys` and the local day (`day` when the range is that one day). `where` narrows the
    cases (with `params`)."""
    inner, values = _cases_union(
        keys, start=start, end=end, day=day, where=where, params=params, join=join
    )
    names = ", ".join(keys)
    sql = (
        f"INSERT INTO {model._meta.db_table} ({names}, day, {', '.join(ALL_FIGURES)}) "  # noqa: S608
        f"SELECT {names}, day, {SUMS_SQL} FROM ({inner}) u GROUP BY {names}, day"
    )
    with connection.cursor() as cur:
        cur.execute(sql, values)


def department_figures_of_grid(grid_id: int, start: datetime, end: datetime) -> list[dict]:
    """Per department, the figures of one grid's cases reported or closed in [start, end):
    the department roll-up's own SQL, read directly (a grid has a few cases a day)."""
    inner, values = _cases_union(
        {"department_id": "a.department_id"}, start=start, end=end, day=date.min,
        where=" AND c.grid_id = %s", params=(grid_id,), join=DEPARTMENT_JOIN,
    )  # fmt: skip
    sql = f"SELECT department_id, {SUMS_SQL} FROM ({inner}) u GROUP BY department_id"  # noqa: S608
    with connection.cursor() as cur:
        cur.execute(sql, values)
        return [
            {
                "department_id": r[0],
                **{f: int(v or 0) for f, v in zip(ALL_FIGURES, r[1:], strict=True)},
            }
            for r in cur.fetchall()
        ]


def insert_months(source, model, keys: tuple[str, ...], *, month: date, where: str = "",
                  params: tuple = ()) -> None:  # fmt: skip
    """Inserts `model`'s rows for `month` as the sums of `source`'s daily rows."""
    next_month = (month + timedelta(days=32)).replace(day=1)
    names = ", ".join(keys)
    sql = (
        f"INSERT INTO {model._meta.db_table} ({names}, month, {', '.join(ALL_FIGURES)}) "  # noqa: S608
        f"SELECT {names}, %s, {SUMS_SQL} FROM {source._meta.db_table} "
        f"WHERE day >= %s AND day < %s{where} GROUP BY {names}"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [dt(month), dt(month), dt(next_month), *params])


def insert_places(*, month: date, start: datetime, end: datetime, where: str = "",
                  params: tuple = ()) -> None:  # fmt: skip
    """Inserts the month's PlaceMonthFigure rows: cases reported in [start, end) (the local
    month) per address, category and grid."""
    sql = (
        f"INSERT INTO {PlaceMonthFigure._meta.db_table} "  # noqa: S608
        "(grid_id, community_id, street_id, category_id, address, month, reported) "
        "SELECT c.grid_id, g.community_id, g.street_id, c.category_id, c.address, %s, COUNT(*) "
        f"FROM {CASES} c JOIN {GRIDS} g ON g.id = c.grid_id "
        f"WHERE c.reported_at >= %s AND c.reported_at < %s AND c.address <> ''{where} "
        "GROUP BY c.grid_id, g.community_id, g.street_id, c.category_id, c.address"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [dt(month), ts(start), ts(end), *params])


DAILY = (DailyFigure, DAILY_KEYS, "")
DEPARTMENT_DAILY = (DepartmentDayFigure, DEPARTMENT_KEYS, DEPARTMENT_JOIN)
MONTHLY_FROM_DAILY = {
    MonthlyFigure: (DailyFigure, ("grid_id", "category_id", "community_id", "street_id")),
    DepartmentMonthFigure: (
        DepartmentDayFigure,
        ("department_id", "community_id", "street_id"),
    ),
}
