"""The data end of the brains at /api/v1/brain/: every figure the dashboards show, scoped to
the actor, as JSON or (format=xlsx|csv) as a download."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from django.utils import timezone
from ninja import Router, Schema

from yiwang.org.selectors import scope_for

from . import selectors as sel
from . import services
from .exports import download, figure_table
from .models import Indicator, Rubric

router = Router(tags=["brain"])

Level = Literal["district", "street", "community", "grid"]
Format = Literal["json", "xlsx", "csv"]
Grain = Literal["auto", "day", "week", "month"]


def _range(start: date | None, end: date | None) -> tuple[date, date]:
    """Whole local days; the default is the last 30 days up to today."""
    end = end or timezone.localdate()
    start = start or end - timedelta(days=29)
    sel.check_range(start, end)
    return start, end


def _node(request, level: str, node: int | None):
    return sel.node_access(actor=request.user, level=level, node_id=node)


def _meta(request, node, start, end) -> dict:
    return {
        "node": node.as_dict(),
        "label": sel.LEVEL_LABELS[node.level],
        "child_level": sel.CHILD_LEVEL[node.level],
        "breadcrumbs": sel.breadcrumbs(node, scope_for(request.user)),
        "start": start.isoformat(),
        "end": end.isoformat(),
    }


@router.get("/home")
def home(request):
    """Where the actor's brain opens: their highest node."""
    return sel.home_node(actor=request.user).as_dict()


@router.get("/dashboard")
def dashboard(
    request,
    level: Level = "district",
    node: int | None = None,
    start: date | None = None,
    end: date | None = None,
    grain: Grain = "auto",
):
    """One request for a dashboard's core: summary with rates, per-grid figures for the map,
    the per-child table, the trend and the category breakdown."""
    n = _node(request, level, node)
    first, last = _range(start, end)
    grain = sel.auto_grain(first, last) if grain == "auto" else grain
    return {
        **_meta(request, n, first, last),
        "grain": grain,
        **sel.overview(n, first, last),
        "trend": sel.trend(n, first, last, grain),
        "categories": sel.by_category(n, first, last),
    }


@router.get("/departments")
def departments(
    request,
    level: Level = "district",
    node: int | None = None,
    start: date | None = None,
    end: date | None = None,
    format: Format = "json",
):
    n = _node(request, level, node)
    first, last = _range(start, end)
    rows = sel.by_department(n, first, last)
    if format != "json":
        table = figure_table(rows, [("name", "部门")])
        return download(table, fmt=format, name="部门排名", actor=request.user)
    return {**_meta(request, n, first, last), "departments": rows}


@router.get("/places")
def places(
    request,
    level: Level = "district",
    node: int | None = None,
    start: date | None = None,
    end: date | None = None,
    format: Format = "json",
):
    """Places where the same kind of problem recurs."""
    n = _node(request, level, node)
    first, last = _range(start, end)
    rows = sel.recurring_places(n, first, last)
    if format != "json":
        table = [["地址", "类别", "网格", "次数"]] + [
            [r["address"], r["category"], r["grid"], r["count"]] for r in rows
        ]
        return download(table, fmt=format, name="高频重复点位", actor=request.user)
    return {**_meta(request, n, first, last), "places": rows}


@router.get("/live")
def live(request, level: Level = "district", node: int | None = None):
    """Open overdue and 顶格办 cases under the node, most urgent first."""
    n = _node(request, level, node)
    return {"node": n.as_dict(), **sel.live_cases(n)}


@router.get("/figures")
def figures_table(
    request,
    level: Level = "district",
    node: int | None = None,
    start: date | None = None,
    end: date | None = None,
    by: Literal["child", "grid", "category", "trend"] = "child",
    grain: Grain = "auto",
    format: Format = "json",
):
    """Any of the dashboard's tables, for download or for other systems."""
    n = _node(request, level, node)
    first, last = _range(start, end)
    if by == "child":
        rows, keys = sel.by_child(n, first, last), [("name", "名称")]
    elif by == "grid":
        names = sel.grid_names(n)
        grids = sel.by_grid(n, first, last)
        rows = [{"id": k, "name": names.get(k, ""), **v} for k, v in grids.items()]
        keys = [("name", "网格")]
    elif by == "category":
        rows, keys = sel.by_category(n, first, last), [("name", "类别")]
    else:
        g = sel.auto_grain(first, last) if grain == "auto" else grain
        rows, keys = sel.trend(n, first, last, g), [("period", "时段")]
    if format != "json":
        return download(figure_table(rows, keys), fmt=format, name=f"{n.name}", actor=request.user)
    return {**_meta(request, n, first, last), "rows": rows}


# -- star grids --------------------------------------------------------------------------------


class RubricItemIn(Schema):
    indicator: str
    weight: float
    thresholds: list[float]


class RubricIn(Schema):
    name: str
    items: list[RubricItemIn]


def _rubric_out(rubric: Rubric) -> dict:
    labels = dict(Indicator.choices)
    return {
        "id": rubric.id,
        "name": rubric.name,
        "is_active": rubric.is_active,
        "items": [
            {
                "indicator": it.indicator,
                "label": str(labels.get(it.indicator, it.indicator)),
                "weight": it.weight,
                "thresholds": it.thresholds,
            }
            for it in rubric.items.order_by("id")
        ],
    }


@router.get("/rubric")
def rubric_get(request):
    sel.home_node(actor=request.user)  # anyone with a brain may read the rubric
    rubric = Rubric.objects.filter(is_active=True).order_by("-id").first()
    return _rubric_out(rubric) if rubric else {"id": None, "items": []}


@router.put("/rubric")
def rubric_put(request, payload: RubricIn):
    rubric = services.rubric_save(
        actor=request.user, name=payload.name, items=[i.dict() for i in payload.items]
    )
    return _rubric_out(rubric)


class MonthIn(Schema):
    month: date


@router.post("/stars/evaluate")
def stars_evaluate(request, payload: MonthIn):
    n = services.stars_evaluate(actor=request.user, month=payload.month)
    return {"month": payload.month.replace(day=1).isoformat(), "rated": n}


@router.post("/stars/publish")
def stars_publish(request, payload: MonthIn):
    n = services.stars_publish(actor=request.user, month=payload.month)
    return {"month": payload.month.replace(day=1).isoformat(), "published": n}


@router.get("/stars")
def stars_list(
    request,
    month: date | None = None,
    level: Level = "district",
    node: int | None = None,
    format: Format = "json",
):
    """A month's star ratings under the node, best first. District users also see unpublished
    evaluations; everyone else only the published list."""
    n = _node(request, level, node)
    rows = sel.star_list(actor=request.user, node=n, month=month)
    if format != "json":
        table = [["网格", "社区", "街道", "星级", "得分", "社区内排名", "街道内排名", "全区排名"]]
        table += [
            [r["grid"], r["community"], r["street"], r["stars"], r["score"],
             r["rank_community"], r["rank_street"], r["rank_district"]]
            for r in rows["ratings"]
        ]  # fmt: skip
        return download(table, fmt=format, name="星级网格", actor=request.user)
    return rows


@router.get("/stars/history")
def stars_history(request, grid: int):
    n = _node(request, "grid", grid)
    return {"node": n.as_dict(), "history": sel.star_history(actor=request.user, node=n)}
