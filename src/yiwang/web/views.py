"""Pages that combine several apps, and the shell around them. Views only orchestrate: the map
page's data come from the API, which reads through the scoped selectors."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from yiwang.org.selectors import scope_for


def home(request):
    """Staff land on the map of their part of the district; residents on their own reports."""
    if not request.user.is_authenticated:
        return redirect("web:login")
    scope = scope_for(request.user)
    if scope.is_empty and not scope.department_ids:
        return redirect("cases:mine")
    return redirect("web:map")


def _map_strings() -> dict[str, str]:
    """The map script's user-facing text, translated on the server (Chinese msgids)."""
    return {
        "loading": _("正在加载网格……"),
        "load_failed": _("网格加载失败,请刷新页面重试。"),
        "no_grids": _("您的权限范围内没有网格。"),
        "grid_count": _("共 {n} 个网格"),
        "code": _("网格编码"),
        "community": _("社区"),
        "street": _("街道"),
        "party_branch": _("网格党支部"),
        "building_count": _("楼院数"),
        "area": _("面积"),
        "team": _("网格队伍"),
        "no_team": _("暂无队伍成员"),
        "none": _("无"),
        "detail_loading": _("正在加载网格详情……"),
        "detail_failed": _("无法查看该网格(不存在或不在您的权限范围内)。"),
        "resolving": _("正在查找地址……"),
        "empty_address": _("请输入地址。"),
        "not_found": _("未找到该地址,请检查路名和门牌号后重试。"),
        "resolve_failed": _("地址查询失败,请稍后重试。"),
        "grid": _("所属网格"),
        "confidence": _("可信度"),
        "candidates": _("可能的网格"),
        "show_grid": _("查看网格"),
        "out_of_scope": _("(不在您的权限范围内)"),
        "locate_title": _("此处所属网格"),
        "close": _("关闭"),
        "legend": _("街道图例"),
    }


@login_required
def map_page(request):
    config = {
        "tileUrl": settings.YIWANG_TILE_URL,
        "gridsUrl": reverse("api:grid_geojson"),
        # The detail URL with a placeholder the script fills in with a grid id.
        "gridUrl": reverse("api:grid_detail", kwargs={"grid_id": 0}).replace("/0", "/{id}"),
        "resolveUrl": reverse("api:resolve"),
        "locateUrl": reverse("api:locate_point"),
        "loginUrl": reverse("web:login"),
        "strings": _map_strings(),
    }
    return render(
        request, "web/map.html", {"tile_url": settings.YIWANG_TILE_URL, "map_config": config}
    )
