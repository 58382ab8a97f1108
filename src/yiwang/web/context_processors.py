"""What every page's top bar needs: the navigation, following the user's roles, and who is
signed in (name and role labels)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from yiwang.org.models import Role
from yiwang.org.selectors import Scope, scope_for


@dataclass(frozen=True)
class NavEntry:
    key: str
    label: Callable[[], str]  # called per request, so the label follows the active language
    url: Callable[[], str]
    visible: Callable[[object, Scope], bool]
    # "namespace:url_name" of the pages under which this entry is the current one.
    matches: tuple[str, ...] = ()
    # Shown to visitors who have not signed in (residents reporting, the public wall).
    public: bool = False


def _everyone(user, scope: Scope) -> bool:
    return True


def _admin_site(user, scope: Scope) -> bool:
    # The admin site itself admits active staff only (superusers included when is_staff).
    return bool(user.is_active and user.is_staff)


def _desk_or_department(user, scope: Scope) -> bool:
    return not scope.is_empty or bool(scope.department_ids)


def _desk(user, scope: Scope) -> bool:
    return not scope.is_empty


def _auditor(user, scope: Scope) -> bool:
    return "auditor" in scope.role_kinds or user.is_superuser


def _reviewer(user, scope: Scope) -> bool:
    return scope.everything or bool(scope.street_ids)


def _provider(user, scope: Scope) -> bool:
    from yiwang.matching.selectors import provider_for_user

    return bool(provider_for_user(user))


# One table, in display order. A new page adds a line here with who may see it.
NAV: tuple[NavEntry, ...] = (
    NavEntry(
        "map", lambda: _("地图"), lambda: reverse("web:map"), _desk_or_department, ("web:map",)
    ),
    NavEntry(
        "brain",
        lambda: _("三脑"),
        lambda: reverse("brain:home"),
        _desk,
        ("brain:home", "brain:dashboard", "brain:stars"),
    ),
    NavEntry(
        "queue",
        lambda: _("我的待办"),
        lambda: reverse("cases:queue"),
        _desk_or_department,
        ("cases:queue", "cases:detail"),
    ),
    NavEntry(
        "registry",
        lambda: _("居民"),
        lambda: reverse("registry:resident_list"),
        _desk_or_department,
        # The registry's pages share one entry; a tab bar inside leads to 户, 房屋, 场所, 组织.
        (
            "registry:resident_list",
            "registry:resident_card",
            "registry:resident_new",
            "registry:resident_edit",
            "registry:resident_archive",
            "registry:resident_reveal",
            *(
                f"registry:{kind}_{page}"
                for kind in ("household", "house", "place", "organization")
                for page in ("list", "new", "detail", "edit", "archive")
            ),
            "registry:household_set_head",
            "registry:household_add_member",
            "registry:household_remove_member",
            "registry:building_detail",
        ),
    ),
    NavEntry(
        "search", lambda: _("检索"), lambda: reverse("search:search"), _desk, ("search:search",)
    ),
    NavEntry(
        "outreach",
        lambda: _("摸排"),
        lambda: reverse("outreach:index"),
        _desk,
        ("outreach:index", "outreach:detail", "outreach:calls"),
    ),
    NavEntry(
        "demands",
        lambda: _("需求清单"),
        lambda: reverse("matching:demands"),
        _desk,
        (
            "matching:demands",
            "matching:demand_new",
            "matching:demand_detail",
            "matching:providers",
            "matching:provider_new",
            "matching:provider_detail",
            "matching:records",
        ),
    ),
    NavEntry(
        "report",
        lambda: _("上报问题"),
        lambda: reverse("cases:new"),
        _everyone,
        ("cases:new",),
        True,
    ),
    NavEntry(
        "mine", lambda: _("我的上报"), lambda: reverse("cases:mine"), _everyone, ("cases:mine",)
    ),
    NavEntry(
        "my_service",
        lambda: _("我的服务"),
        lambda: reverse("matching:me"),
        _provider,
        ("matching:me",),
    ),
    NavEntry(
        "wall", lambda: _("回音壁"), lambda: reverse("wall:list"), _everyone, ("wall:list",), True
    ),
    NavEntry(
        "calls",
        lambda: _("揭榜"),
        lambda: reverse("matching:calls"),
        _everyone,
        ("matching:calls", "matching:call_new", "matching:call_detail"),
        True,
    ),
    NavEntry(
        "wall_review",
        lambda: _("回音壁审核"),
        lambda: reverse("cases:wall_review"),
        _reviewer,
        ("cases:wall_review",),
    ),
    NavEntry(
        "access_log",
        lambda: _("访问日志"),
        lambda: reverse("registry:access_log"),
        _auditor,
        ("registry:access_log",),
    ),
    NavEntry("admin", lambda: _("管理后台"), lambda: reverse("admin:index"), _admin_site),
    NavEntry("api", lambda: _("接口文档"), lambda: reverse("api:openapi-view"), _everyone),
)


def nav_items_for(user, current: str | None = None) -> list[dict]:
    """The navigation entries this user may see, in order; `current` is the resolved URL name."""
    if user is None or not user.is_authenticated:
        return [
            {"key": e.key, "label": e.label(), "url": e.url(), "active": current in e.matches}
            for e in NAV
            if e.public
        ]
    scope = scope_for(user)
    return [
        {
            "key": entry.key,
            "label": entry.label(),
            "url": entry.url(),
            "active": current is not None and current in entry.matches,
        }
        for entry in NAV
        if entry.visible(user, scope)
    ]


def role_labels_for(user) -> list[str]:
    """The user's roles as people read them, e.g. "网格员 · 兴德路社区第1网格"."""
    if user is None or not user.is_authenticated:
        return []
    labels = []
    roles = Role.objects.filter(user=user).select_related(
        "district", "street", "community", "grid", "department"
    )
    for role in roles.order_by("id"):
        labels.append(f"{role.get_kind_display()} · {role.node}")
    if not labels and user.is_superuser:
        labels.append(_("系统管理员"))
    return labels


def navigation(request):
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    current = f"{match.namespace}:{match.url_name}" if match is not None else None
    if user is None or not user.is_authenticated:
        return {"nav_items": nav_items_for(user, current), "user_roles": []}
    return {
        "nav_items": nav_items_for(user, current),
        "scope": scope_for(user),
        # Lazy: pages that never show the roles (admin, errors) skip the query.
        "user_roles": SimpleLazyObject(lambda: role_labels_for(user)),
        "user_display_name": user.get_full_name() or user.get_username(),
    }
