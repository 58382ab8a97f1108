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
    # URL names (without the "web:" namespace) under which this entry is the current page.
    matches: tuple[str, ...] = ()


def _everyone(user, scope: Scope) -> bool:
    return True


def _admin_site(user, scope: Scope) -> bool:
    # The admin site itself admits active staff only (superusers included when is_staff).
    return bool(user.is_active and user.is_staff)


# One table, in display order. A new page adds a line here with who may see it.
NAV: tuple[NavEntry, ...] = (
    NavEntry("map", lambda: _("地图"), lambda: reverse("web:map"), _everyone, ("map",)),
    NavEntry("admin", lambda: _("管理后台"), lambda: reverse("admin:index"), _admin_site),
    NavEntry("api", lambda: _("接口文档"), lambda: reverse("api:openapi-view"), _everyone),
)


def nav_items_for(user, current: str | None = None) -> list[dict]:
    """The navigation entries this user may see, in order; `current` is the resolved URL name."""
    if user is None or not user.is_authenticated:
        return []
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
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "user_roles": []}
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match is not None and match.namespace == "web" else None
    return {
        "nav_items": nav_items_for(user, current),
        "scope": scope_for(user),
        # Lazy: pages that never show the roles (admin, errors) skip the query.
        "user_roles": SimpleLazyObject(lambda: role_labels_for(user)),
        "user_display_name": user.get_full_name() or user.get_username(),
    }
