"""The brains' pages: one dashboard template for every level, a large-screen mode for the
district command centre, and the star-grid list. Pages fetch their figures from the API."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from yiwang.org.selectors import scope_for

from . import selectors as sel

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
