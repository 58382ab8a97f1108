"""The brains' pages: one dashboard template for every level, a large-screen mode for the
district command centre, and the star-grid list. Pages fetch their figures from the API."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from yiwang.org.selectors import scope_for

from . import selectors as sel
from . import services
from .models import Indicator, Rubric

FIGURE_CHOICES = [
    ("reported", "上报数"),
    ("overdue", "超期数"),
    ("completion_rate", "办结率"),
    ("satisfaction_rate", "满意率"),
    ("stars", "星级"),
]


def _charts() -> list[tuple[str, str, str]]:
    """(chart id, title, the API query its xlsx export calls)."""
    return [
        ("trend", _("趋势"), "figures?by=trend"),
        ("categories", _("类别构成"), "figures?by=category"),
        ("children", _("下级对比"), "figures?by=child"),
        ("departments", _("部门排名 (办结率)"), "departments?"),
        ("places", _("高频重复点位"), "places?"),
    ]


@login_required
def home(request):
    node = sel.home_node(actor=request.user)
    return redirect("brain:dashboard", level=node.level, node_id=node.id)


def _config(request, node, *, screen: bool = False) -> dict:
    return {
        "api": "/api/v1/brain/",
        "grids_url": "/api/v1/org/grids.geojson",
        "page_url": reverse("brain:dashboard", args=["LEVEL", 0]).replace("/0/", "/ID/"),
        "node": node.as_dict(),
        "child_level": sel.CHILD_LEVEL[node.level],
        "street_id": node.street_id,
        "community_id": node.community_id,
        "screen": screen,
        "refresh_seconds": 60 if screen else 0,
    }


@login_required
def dashboard(request, level: str, node_id: int):
    if level not in sel.LEVELS:
        raise PermissionDenied
    node = sel.node_access(actor=request.user, level=level, node_id=node_id)
    return render(
        request,
        "brain/dashboard.html",
        {
            "node": node,
            "label": sel.LEVEL_LABELS[node.level],
            "crumbs": sel.breadcrumbs(node, scope_for(request.user)),
            "figures": FIGURE_CHOICES,
            "charts": _charts(),
            "config": _config(request, node),
        },
    )


@login_required
def screen(request):
    """大屏: 1920×1080, dark, refreshing itself, for the district command centre."""
    node = sel.home_node(actor=request.user)
    level = request.GET.get("level")
    if level:
        try:
            node_id = int(request.GET.get("node") or 0) or None
        except ValueError:
            node_id = None
        if level not in sel.LEVELS:
            return HttpResponseBadRequest(_("层级应为 district、street、community 或 grid"))
        if level != "district" and node_id is None:
            return HttpResponseBadRequest(_("请指定节点"))
        node = sel.node_access(actor=request.user, level=level, node_id=node_id)
    return render(
        request,
        "brain/screen.html",
        {"node": node, "label": sel.LEVEL_LABELS[node.level], "figures": FIGURE_CHOICES,
         "charts": _charts(), "config": _config(request, node, screen=True)},
    )  # fmt: skip


@login_required
def stars(request):
    node = sel.home_node(actor=request.user)
    data = sel.star_list(actor=request.user, node=node)
    return render(request, "brain/stars.html", {"node": node, "data": data})


# -- the star rubric, edited by district staff --------------------------------------------------


def _rubric_rows(rubric: Rubric | None, data=None) -> list[dict]:
    """One row per indicator: in use or not, weight and four thresholds (as typed, after a
    failed save)."""
    items = {it.indicator: it for it in rubric.items.all()} if rubric else {}
    rows = []
    for value, label in Indicator.choices:
        it = items.get(value)
        if data is not None:
            row = {
                "on": data.get(f"{value}-on") == "1",
                "weight": data.get(f"{value}-weight", ""),
                "thresholds": [data.get(f"{value}-t{k}", "") for k in range(4)],
            }
        else:
            row = {
                "on": it is not None,
                "weight": it.weight if it else "",
                "thresholds": list(it.thresholds) if it else ["", "", "", ""],
            }
        rows.append({"indicator": value, "label": label, **row})
    return rows


def _field_label(key: str, rows: list[dict]) -> str:
    """ "items.2.weight" → "满意率 · 权重": the field as the page names it."""
    parts = key.split(".")
    if parts[0] != "items" or len(parts) != 3:
        return {"name": _("名称"), "items": _("指标")}.get(key, key)
    used = [r for r in rows if r["on"]]
    label = used[int(parts[1])]["label"] if int(parts[1]) < len(used) else parts[1]
    field = {"indicator": _("指标"), "weight": _("权重"), "thresholds": _("阈值")}[parts[2]]
    return f"{label} · {field}"


@login_required
def rubric(request):
    """星级评定细则: district staff choose the indicators, their weights and thresholds; a
    save makes a new version the next evaluation uses."""
    if not scope_for(request.user).everything:
        raise PermissionDenied
    active = Rubric.objects.filter(is_active=True).order_by("-id").first()
    errors: list[str] = []
    saved = False
    name = active.name if active else ""
    rows = _rubric_rows(active)
    if request.method == "POST":
        name = request.POST.get("name", "")
        rows = _rubric_rows(None, request.POST)
        items = [
            {"indicator": r["indicator"], "weight": r["weight"], "thresholds": r["thresholds"]}
            for r in rows
            if r["on"]
        ]
        try:
            active = services.rubric_save(actor=request.user, name=name, items=items)
        except ValidationError as e:
            errors = [
                f"{_field_label(key, rows)}:{message}"
                for key, messages in e.message_dict.items()
                for message in messages
            ]
        else:
            saved = True
            rows = _rubric_rows(active)
    return render(
        request,
        "brain/rubric.html",
        {"rubric": active, "name": name, "rows": rows, "errors": errors, "saved": saved},
        status=400 if errors else 200,
    )
