"""Reads for the brains, always through a node the actor may see (`node_access`), over whole
local days. Figures come from the roll-ups; rates from figures.py; live lists from the cases."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.utils.translation import gettext as _

from yiwang.cases.models import Case, Category
from yiwang.cases.states import Mode, State
from yiwang.org.models import Community, Department, District, Grid, Street
from yiwang.org.selectors import Scope, scope_for

from . import figures
from .models import (
    ALL_FIGURES,
    DailyFigure,
    DepartmentDayFigure,
    DepartmentMonthFigure,
    GridDayFigure,
    GridMonthFigure,
    MonthlyFigure,
    PlaceMonthFigure,
    StreetCategoryDayFigure,
    StreetCategoryMonthFigure,
)
from .rollup import day_bounds, month_of
from .sql import department_figures_of_grid

LEVELS = ("district", "street", "community", "grid")
LEVEL_LABELS = {
    "district": "区级大脑",
    "street": "街道中脑",
    "community": "社区微脑",
    "grid": "网格",
}
MAX_RANGE_DAYS = 5 * 366
CHILD_LEVEL = {"district": "street", "street": "community", "community": "grid", "grid": None}


@dataclass(frozen=True)
class Node:
    level: str
    id: int
    name: str
    street_id: int | None = None
    community_id: int | None = None

    @property
    def q(self) -> Q:
        """Filter for rows carrying grid/community/street ids (roll-ups and cases alike)."""
        if self.level == "street":
            return Q(street_id=self.id)
        if self.level == "community":
            return Q(community_id=self.id)
        if self.level == "grid":
            return Q(grid_id=self.id)
        return Q()

    def as_dict(self) -> dict:
        return {"level": self.level, "id": self.id, "name": self.name}


def top_level(scope: Scope) -> str | None:
    if scope.everything:
        return "district"
    if scope.street_ids:
        return "street"
    if scope.community_ids:
        return "community"
    if scope.grid_ids:
        return "grid"
    return None


def node_access(*, actor, level: str, node_id: int | None) -> Node:
    """The only way to a brain node from untrusted input. A level above the actor's scope is
    refused (403, it says nothing about any node); an unknown node or one outside the scope is
    a 404 either way."""
    if level not in LEVELS:
        raise ValidationError({"level": [_("层级应为 district、street、community 或 grid")]})
    scope = scope_for(actor)
    mine = top_level(scope)
    if mine is None or LEVELS.index(level) < LEVELS.index(mine):
        raise PermissionDenied(_("该层级超出您的权限范围"))
    if level == "district":
        district = (
            District.objects.filter(id=node_id).first()
            if node_id
            else District.objects.order_by("id").first()
        )
        if district is None:
            raise Http404
        return Node("district", district.id, district.name)
    if node_id is None:
        raise ValidationError({"node": [_("请指定节点")]})
    if level == "street":
        street = Street.objects.filter(id=node_id).first()
        if street is None or not (scope.everything or street.id in scope.street_ids):
            raise Http404
        return Node("street", street.id, street.name, street_id=street.id)
    if level == "community":
        community = Community.objects.filter(id=node_id).first()
        if community is None or not (
            scope.everything
            or community.street_id in scope.street_ids
            or community.id in scope.community_ids
        ):
            raise Http404
        return Node("community", community.id, community.name, street_id=community.street_id)
    grid = Grid.objects.filter(id=node_id).first()
    if grid is None or not scope.covers_grid(grid):
        raise Http404
    return Node(
        "grid", grid.id, grid.name, street_id=grid.street_id, community_id=grid.community_id
    )


def home_node(*, actor) -> Node:
    """The highest node the actor sees: where their brain opens."""
    scope = scope_for(actor)
    level = top_level(scope)
    if level is None:
        raise PermissionDenied(_("您没有可查看的网格"))
    ids = {
        "district": None,
        "street": scope.street_ids,
        "community": scope.community_ids,
        "grid": scope.grid_ids,
    }[level]
    return node_access(actor=actor, level=level, node_id=min(ids) if ids else None)


def breadcrumbs(node: Node, scope: Scope) -> list[dict]:
    """The path from the actor's top level down to the node, for drilling back up."""
    chain: list[Node] = []
    if node.level == "grid":
        grid = Grid.objects.select_related("community", "street", "street__district").get(
            id=node.id
        )
        chain = [
            Node("district", grid.street.district_id, grid.street.district.name),
            Node("street", grid.street_id, grid.street.name),
            Node("community", grid.community_id, grid.community.name),
            node,
        ]
    elif node.level == "community":
        c = Community.objects.select_related("street", "street__district").get(id=node.id)
        chain = [
            Node("district", c.street.district_id, c.street.district.name),
            Node("street", c.street_id, c.street.name),
            node,
        ]
    elif node.level == "street":
        s = Street.objects.select_related("district").get(id=node.id)
        chain = [Node("district", s.district_id, s.district.name), node]
    else:
        chain = [node]
    start = LEVELS.index(top_level(scope) or "grid")
    return [n.as_dict() for n in chain if LEVELS.index(n.level) >= start]


def check_range(start: date, end: date) -> None:
    if end < start:
        raise ValidationError({"end": [_("结束日期早于开始日期")]})
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ValidationError({"start": [_("时间范围不能超过 5 年")]})


# -- sums over the roll-ups ------------------------------------------------------------------


def _parts(first: date, last: date) -> list[tuple[type, dict]]:
    """The range as (model, filter) parts: whole months from MonthlyFigure, the ragged edges
    from DailyFigure, so a year reads ~12 rows per key instead of ~365."""
    m_first = first if first.day == 1 else month_of(first + timedelta(days=31))
    m_end = month_of(last + timedelta(days=1))  # the first month not wholly inside
    if m_first >= m_end:
        return [(DailyFigure, {"day__gte": first, "day__lte": last})]
    parts = [(MonthlyFigure, {"month__gte": m_first, "month__lt": m_end})]
    if first < m_first:
        parts.append((DailyFigure, {"day__gte": first, "day__lt": m_first}))
    if m_end <= last:
        parts.append((DailyFigure, {"day__gte": m_end, "day__lte": last}))
    return parts


SUMS = {f: Sum(f) for f in ALL_FIGURES}


def _coarsest(model, node: Node, by: str | None):
    """The coarsest table of the same grain that still has the columns the read filters and
    groups by."""
    month = model is MonthlyFigure
    if by in (None, "grid_id", "community_id", "street_id", "month", "day"):
        return GridMonthFigure if month else GridDayFigure
    if by == "category_id" and node.level in ("district", "street"):
        return StreetCategoryMonthFigure if month else StreetCategoryDayFigure
    return model


def totals(node: Node, first: date, last: date, *, by: str | None = None) -> dict:
    """Summed figures for the node over [first, last], whole or grouped by `by` (a roll-up
    column such as "grid_id", "community_id", "street_id", "category_id")."""
    grouped: dict = defaultdict(lambda: dict.fromkeys(ALL_FIGURES, 0))
    for model, flt in _parts(first, last):
        qs = _coarsest(model, node, by).objects.filter(node.q, **flt)
        if by is None:
            row = qs.aggregate(**SUMS)
            for f in ALL_FIGURES:
                grouped[None][f] += row[f] or 0
            continue
        for row in qs.values(by).annotate(**SUMS).order_by():
            acc = grouped[row[by]]
            for f in ALL_FIGURES:
                acc[f] += row[f] or 0
    if by is None:
        return grouped[None]
    return dict(grouped)


def with_rates(row: dict) -> dict:
    return {**{f: row.get(f, 0) for f in ALL_FIGURES}, **figures.rates_from(row)}


def summary(node: Node, first: date, last: date) -> dict:
    return with_rates(totals(node, first, last))


def auto_grain(first: date, last: date) -> str:
    span = (last - first).days + 1
    return "day" if span <= 62 else "week" if span <= 366 else "month"


def trend(node: Node, first: date, last: date, grain: str) -> list[dict]:
    """Figures per day, week (Monday) or month, every period present (zeros included)."""
    buckets: dict[date, dict] = {}

    def bucket(d: date) -> date:
        if grain == "week":
            return max(d - timedelta(days=d.weekday()), first)
        if grain == "month":
            return max(month_of(d), first)
        return d

    d = first
    while d <= last:
        buckets.setdefault(bucket(d), dict.fromkeys(ALL_FIGURES, 0))
        d += timedelta(days=1)
    parts = (
        _parts(first, last)
        if grain == "month"
        else [(DailyFigure, {"day__gte": first, "day__lte": last})]
    )
    for model, flt in parts:
        key = "month" if model is MonthlyFigure else "day"
        model = _coarsest(model, node, key)
        for row in model.objects.filter(node.q, **flt).values(key).annotate(**SUMS).order_by():
            acc = buckets[bucket(row[key])]
            for f in ALL_FIGURES:
                acc[f] += row[f] or 0
    return [{"period": k.isoformat(), **with_rates(v)} for k, v in sorted(buckets.items())]


def by_category(node: Node, first: date, last: date) -> list[dict]:
    """Figures per top-level category (市容环境, 违章建筑 …), largest first."""
    rows = totals(node, first, last, by="category_id")
    cats = {c.id: c for c in Category.objects.select_related("parent")}
    merged: dict[int, dict] = defaultdict(lambda: dict.fromkeys(ALL_FIGURES, 0))
    for cat_id, row in rows.items():
        cat = cats[cat_id]
        top = cat.parent or cat
        for f in ALL_FIGURES:
            merged[top.id][f] += row[f]
    out = [{"id": k, "name": cats[k].name, **with_rates(v)} for k, v in merged.items()]
    return sorted(out, key=lambda r: -r["reported"])


def grid_names(node: Node) -> dict[int, str]:
    qs = Grid.objects.filter(id=node.id) if node.level == "grid" else Grid.objects.filter(node.q)
    return dict(qs.values_list("id", "name"))


def by_grid(node: Node, first: date, last: date) -> dict[int, dict]:
    """Per-grid figures with rates, for the map."""
    return {k: with_rates(v) for k, v in totals(node, first, last, by="grid_id").items()}


def _children(node: Node) -> tuple[str, dict[int, str]]:
    child = CHILD_LEVEL[node.level] or "grid"
    if node.level == "district":
        qs = Street.objects.filter(district_id=node.id)
    elif node.level == "street":
        qs = Community.objects.filter(street_id=node.id)
    elif node.level == "community":
        qs = Grid.objects.filter(community_id=node.id)
    else:
        qs = Grid.objects.filter(id=node.id)
    return child, dict(qs.values_list("id", "name"))


def _child_rows(child: str, names: dict[int, str], rows: dict) -> list[dict]:
    empty = dict.fromkeys(ALL_FIGURES, 0)
    return [
        {"level": child, "id": i, "name": n, **with_rates(rows.get(i, empty))}
        for i, n in sorted(names.items(), key=lambda kv: kv[1])
    ]


def by_child(node: Node, first: date, last: date) -> list[dict]:
    """Figures for each child node (streets of the district …), with rates, for tables and
    exports. A grid's child list is the grid itself."""
    child, names = _children(node)
    return _child_rows(child, names, totals(node, first, last, by=f"{child}_id"))


# What the map colours grids by: a district's 940 grids travel with these, not all 23 figures
# (the per-grid table with every figure is the figures?by=grid export).
MAP_FIGURES = ("reported", "closed", "overdue")
MAP_RATES = ("completion_rate", "satisfaction_rate", "on_time_rate", "response_rate")


def _map_figures(row: dict) -> dict:
    return {
        **{f: row[f] for f in MAP_FIGURES},
        **{name: figures.rate(name, row) for name in MAP_RATES},
    }


def overview(node: Node, first: date, last: date) -> dict:
    """The node's summary, per-grid and per-child figures from one grouped read of the
    roll-ups (grid sums add up to child and node sums; the rates are taken after adding)."""
    per_grid = totals(node, first, last, by="grid_id")
    child, names = _children(node)
    parent_of = {
        g: (s, c) for g, s, c in Grid.objects.filter(id__in=per_grid).values_list(
            "id", "street_id", "community_id"
        )
    }  # fmt: skip
    whole = dict.fromkeys(ALL_FIGURES, 0)
    per_child: dict[int, dict] = defaultdict(lambda: dict.fromkeys(ALL_FIGURES, 0))
    for grid_id, row in per_grid.items():
        street_id, community_id = parent_of[grid_id]
        key = {"street": street_id, "community": community_id, "grid": grid_id}[child]
        acc = per_child[key]
        for f in ALL_FIGURES:
            whole[f] += row[f]
            acc[f] += row[f]
    return {
        "summary": with_rates(whole),
        "grids": {str(k): _map_figures(v) for k, v in per_grid.items()},
        "children": _child_rows(child, names, per_child),
    }


def _department_names(ids) -> dict[int, str]:
    rows = Department.objects.filter(id__in=ids).values_list("id", "short_name", "name")
    shorts = [short for _i, short, _n in rows]
    # Several units share a short name (each street's 执法中队): those show their full name.
    return {i: short if short and shorts.count(short) == 1 else name for i, short, name in rows}


def _department_totals(node: Node, first: date, last: date) -> dict[int, dict]:
    """Per department, the summed figures of the node's cases over [first, last]: from the
    department roll-ups for a community and above; a grid (a few cases a day) is counted
    from its cases, with the same SQL the roll-ups are made with."""
    acc: dict[int, dict] = defaultdict(lambda: dict.fromkeys(ALL_FIGURES, 0))
    if node.level == "grid":
        for row in department_figures_of_grid(node.id, *day_bounds(first, last)):
            acc[row["department_id"]] = {f: row[f] for f in ALL_FIGURES}
        return acc
    for model, flt in _parts(first, last):
        model = DepartmentMonthFigure if model is MonthlyFigure else DepartmentDayFigure
        qs = model.objects.filter(node.q, **flt).values("department_id").annotate(**SUMS)
        for row in qs.order_by():
            into = acc[row["department_id"]]
            for f in ALL_FIGURES:
                into[f] += row[f] or 0
    return acc


def by_department(node: Node, first: date, last: date) -> list[dict]:
    """Each department's figures and rates for the node's cases, counting a case for every
    department with a part in it (as cases.rates.Where(department_id=…) does), best completion
    first."""
    acc = _department_totals(node, first, last)
    names = _department_names(acc)
    out = [{"id": d, "name": names.get(d, ""), **with_rates(v)} for d, v in acc.items()]
    out.sort(key=lambda r: (-(r["completion_rate"] or 0), -r["reported"]))
    return out


def _months_touched(first: date, last: date) -> list[date]:
    months, m = [], month_of(first)
    while m <= last:
        months.append(m)
        m = month_of(m + timedelta(days=32))
    return months


def recurring_places(node: Node, first: date, last: date, *, at_least: int = 3,
                     limit: int = 20, batch: int = 100) -> list[dict]:  # fmt: skip
    """Addresses where the same kind of problem was reported again and again: at least
    `at_least` cases of one category at one address (and grid) over [first, last], most
    first. Read from the monthly place roll-up: a place with n cases over the k months the
    range touches has a month with at least n/k of them, so only places with such a month
    are candidates; each candidate's monthly sum bounds its count from above, and for the
    ragged first and last months the exact count is taken from the candidates' grids' cases,
    `batch` candidates at a time in bound order, until no bound can beat the list."""
    months = _months_touched(first, last)
    whole = [
        m
        for m in months
        if m >= first and month_of(m + timedelta(days=32)) <= last + timedelta(days=1)
    ]
    edges = [m for m in months if m not in whole]
    at_least = max(1, at_least)
    least_month = -(-at_least // len(months))  # ceil
    scope = {"district": "", "street": " AND {t}.street_id = %s",
             "community": " AND {t}.community_id = %s", "grid": " AND {t}.grid_id = %s"}[node.level]  # fmt: skip
    scope_params = [] if node.level == "district" else [node.id]
    table = PlaceMonthFigure._meta.db_table
    lo, hi = months[0], month_of(months[-1] + timedelta(days=32))
    whole_sql = (
        "SUM(CASE WHEN p.month >= %s AND p.month < %s THEN p.reported ELSE 0 END)" if whole else "0"
    )
    whole_params = [whole[0], month_of(whole[-1] + timedelta(days=32))] if whole else []
    # Table and column names and the scope pieces are our own constants; values are bound.
    query = (
        f"SELECT p.address, p.category_id, p.grid_id, SUM(p.reported), {whole_sql} "  # noqa: S608
        f"FROM (SELECT DISTINCT grid_id, category_id, address FROM {table} k "
        f"WHERE k.month >= %s AND k.month < %s AND k.reported >= %s{scope.format(t='k')}) k "
        f"JOIN {table} p ON p.grid_id = k.grid_id AND p.category_id = k.category_id "
        "AND p.address = k.address AND p.month >= %s AND p.month < %s "
        "GROUP BY p.address, p.category_id, p.grid_id HAVING SUM(p.reported) >= %s"
    )
    params = [*whole_params, lo, hi, least_month, *scope_params, lo, hi, at_least]
    with connection.cursor() as cur:
        cur.execute(query, [_db_date(p) if isinstance(p, date) else p for p in params])
        candidates = cur.fetchall()
    candidates.sort(key=lambda r: (-r[3], r[0], r[1], r[2]))
    edge_bounds = [
        day_bounds(max(m, first), min(month_of(m + timedelta(days=32)) - timedelta(days=1), last))
        for m in edges
    ]
    found: list[tuple[int, str, int, int]] = []  # (count, address, category, grid)
    for i in range(0, len(candidates), batch):
        chunk = candidates[i : i + batch]
        if len(found) >= limit:
            found.sort(key=lambda r: (-r[0], r[1], r[2], r[3]))
            if chunk[0][3] < found[limit - 1][0]:
                break
        counts = {(a, c, g): int(w or 0) for a, c, g, _bound, w in chunk}
        for start, end in edge_bounds:  # the ragged months, from the chunk's grids' cases
            rows = (
                Case.objects.filter(
                    grid_id__in={g for _a, _c, g in counts},
                    reported_at__gte=start,
                    reported_at__lt=end,
                    category_id__in={c for _a, c, _g in counts},
                    address__in={a for a, _c, _g in counts},
                )
                .values_list("address", "category_id", "grid_id")
                .annotate(n=Count("id"))
                .order_by()
            )
            for a, c, g, n in rows:
                if (a, c, g) in counts:
                    counts[(a, c, g)] += n
        found += [(n, a, c, g) for (a, c, g), n in counts.items() if n >= at_least]
    found.sort(key=lambda r: (-r[0], r[1], r[2], r[3]))
    found = found[:limit]
    cats = {c.id: str(c) for c in Category.objects.filter(id__in={r[2] for r in found})}
    grids = dict(Grid.objects.filter(id__in={r[3] for r in found}).values_list("id", "name"))
    return [
        {"address": a, "category": cats.get(c, ""), "grid": grids.get(g, ""), "count": n}
        for n, a, c, g in found
    ]


def _db_date(d: date):
    return connection.ops.adapt_datefield_value(d)


# The live lists walk the partial index of open cases (case_open_due_idx) in deadline order:
# the WHERE repeats the index's condition word for word so SQLite may use it, and "+column"
# keeps planners off the street/community/grid indexes, which at 5 M cases lead to reading
# every case of the node. All pieces are constants; values go in as parameters.
_LIVE_SQL = "SELECT id FROM cases_case WHERE NOT (\"state\" IN ('closed', 'rejected'))"
_LIVE_NODE = {
    "district": "",
    "street": " AND +street_id = %s",
    "community": " AND +community_id = %s",
    "grid": " AND +grid_id = %s",
}


def live_cases(node: Node, *, limit: int = 50) -> dict[str, list[dict]]:
    """The open cases that need a leader's eye now: overdue ones, and 顶格办 ones."""
    fields = ("id", "number", "title", "state", "mode", "reported_at", "resolve_due",
              "address", "grid__name")  # fmt: skip

    def shape(qs):
        states = dict(State.choices)
        modes = dict(Mode.choices)
        return [
            {
                "id": c["id"],
                "number": c["number"],
                "title": c["title"],
                "state": str(states.get(c["state"], c["state"])),
                "mode": str(modes.get(c["mode"], c["mode"])),
                "reported_at": c["reported_at"].isoformat(),
                "resolve_due": c["resolve_due"].isoformat() if c["resolve_due"] else None,
                "address": c["address"],
                "grid": c["grid__name"],
            }
            for c in qs
        ]

    def ids(extra: str, params: list) -> list[int]:
        where, node_params = _LIVE_NODE[node.level], ([] if node.level == "district" else [node.id])
        sql = _LIVE_SQL + where + extra + " ORDER BY resolve_due LIMIT %s"
        with connection.cursor() as cur:
            cur.execute(sql, [*node_params, *params, limit])
            return [r[0] for r in cur.fetchall()]

    def rows(case_ids: list[int]):
        found = {c["id"]: c for c in Case.objects.filter(id__in=case_ids).values(*fields)}
        return [found[i] for i in case_ids if i in found]

    overdue = rows(ids(" AND is_overdue", []))
    top = rows(ids(" AND mode = %s", [Mode.TOP]))
    return {"overdue": shape(overdue), "top": shape(top)}


# -- star grids --------------------------------------------------------------------------------


def _star_visible(actor, qs):
    """District users see evaluations before they are published; others the published list."""
    if scope_for(actor).everything:
        return qs
    return qs.filter(published_at__isnull=False)


def star_list(*, actor, node: Node, month: date | None = None) -> dict:
    """A month's ratings under the node (the latest month with any, by default), best first,
    with the month's per-indicator breakdown."""
    from .models import StarRating

    qs = _star_visible(actor, StarRating.objects.filter(node.q))
    if month is None:
        month = qs.order_by("-month").values_list("month", flat=True).first()
    else:
        month = month.replace(day=1)
    rows = (
        qs.filter(month=month)
        .select_related("grid", "community", "street")
        .order_by("rank_district", "grid__code")
        if month
        else []
    )
    months = sorted(set(qs.values_list("month", flat=True).distinct()), reverse=True)[:36]
    return {
        "node": node.as_dict(),
        "month": month.isoformat() if month else None,
        "months": [m.isoformat() for m in months],
        "ratings": [_star_out(r) for r in rows],
    }


def star_history(*, actor, node: Node) -> list[dict]:
    from .models import StarRating

    qs = _star_visible(actor, StarRating.objects.filter(grid_id=node.id))
    return [
        _star_out(r) for r in qs.select_related("grid", "community", "street").order_by("month")
    ]


def _star_out(r) -> dict:
    return {
        "grid_id": r.grid_id,
        "grid": r.grid.name,
        "community": r.community.name,
        "street": r.street.name,
        "month": r.month.isoformat(),
        "stars": r.stars,
        "score": r.score,
        "breakdown": r.breakdown,
        "rank_community": r.rank_community,
        "rank_street": r.rank_street,
        "rank_district": r.rank_district,
        "published": r.published_at is not None,
    }
