"""`yiwang demo`: a deterministic demo district. One module per app (org, then the apps that
later issues add); each adds its part to what the modules before it built."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from yiwang.org.models import RoleKind
from yiwang.org.services import role_grant

from .org import Built, build_tree

DEMO_PASSWORD = "yiwang-demo"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    label: str


def _user(username: str, name: str, *, superuser: bool = False):
    User = get_user_model()
    user = User(username=username, first_name=name, is_staff=superuser, is_superuser=superuser)
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user


@transaction.atomic
def create_demo_users(built: Built) -> list[DemoLogin]:
    """One login per persona, bound where the source document's stories happen."""
    logins: list[DemoLogin] = []
    grids_by_community: dict[str, list] = {}
    for grid in built.grids:
        grids_by_community.setdefault(grid.community.name, []).append(grid)

    admin = _user("admin", "系统管理员", superuser=True)
    logins.append(DemoLogin(admin.username, "系统管理员 (全部权限)"))

    leader = _user("leader", "区领导")
    role_grant(actor=None, user=leader, kind=RoleKind.DISTRICT_LEADER, node=built.district)
    logins.append(DemoLogin(leader.username, "区级领导 · 市北区"))

    auditor = _user("auditor", "审计员")
    role_grant(actor=None, user=auditor, kind=RoleKind.AUDITOR, node=built.district)
    logins.append(DemoLogin(auditor.username, "区级审计员 · 查看访问日志"))

    street = next(s for s in built.streets if s.name == "即墨路街道")
    jimolu = _user("jimolu", "即墨路街道工作人员")
    role_grant(actor=None, user=jimolu, kind=RoleKind.STREET_STAFF, node=street)
    logins.append(DemoLogin(jimolu.username, "街道工作人员 · 即墨路街道"))

    community = next(c for c in built.communities if c.name == "兴德路社区")
    xingde = _user("xingde", "兴德路社区工作人员")
    role_grant(actor=None, user=xingde, kind=RoleKind.COMMUNITY_STAFF, node=community)
    logins.append(DemoLogin(xingde.username, "社区工作人员 · 兴德路社区"))

    grids = grids_by_community["兴德路社区"]
    worker = _user("wangge", "网格员")
    role_grant(actor=None, user=worker, kind=RoleKind.GRID_WORKER, node=grids[0])
    logins.append(DemoLogin(worker.username, f"网格员 · {grids[0].name}"))

    other = next(g for g in built.grids if g.community.name == "小港社区")
    worker2 = _user("wangge2", "网格员")
    role_grant(actor=None, user=worker2, kind=RoleKind.GRID_WORKER, node=other)
    logins.append(DemoLogin(worker2.username, f"网格员 · {other.name}"))

    chengguan = _user("chengguan", "城管局")
    role_grant(
        actor=None, user=chengguan, kind=RoleKind.DEPARTMENT_STAFF, node=built.departments["CG"]
    )
    logins.append(DemoLogin(chengguan.username, "部门人员 · 区城市管理局"))
    return logins


def _bar(progress, desc: str):
    """`progress` is a factory: progress(desc) → update(done, total); None shows nothing."""
    return progress(desc) if progress else None


def ensure_seed_data() -> None:
    """Data the migrations seed (categories, tags, services); a flushed test database has lost it."""
    from importlib import import_module

    from django.apps import apps

    from yiwang.cases.models import Category
    from yiwang.matching.models import Service
    from yiwang.registry.models import Tag

    if not Category.objects.exists():
        for name in ("0002_seed_categories", "0003_other_category", "0004_category_keywords"):
            import_module(f"yiwang.cases.migrations.{name}").seed(apps, None)
    if not Tag.objects.exists():
        import_module("yiwang.registry.migrations.0002_seed_tags").seed(apps, None)
    if not Service.objects.exists():
        import_module("yiwang.matching.migrations.0002_seed_services").seed(apps, None)


def build_demo(*, scale: str = "small", seed: int = 20261130, progress=None) -> list[DemoLogin]:
    """Each app's part in dependency order. The registry's bulk path must run outside a
    transaction (it rebuilds SQLite indexes after loading)."""
    from .intake import build_intake
    from .registry import build_registry

    ensure_seed_data()
    built = build_tree(scale=scale, seed=seed, progress=_bar(progress, "生成网格"))
    logins = create_demo_users(built)
    build_registry(built, scale=scale, seed=seed, progress=_bar(progress, "生成居民"))
    try:
        from .cases import build_cases
    except ImportError:  # the cases generator is optional while it is being written
        build_cases = None
    if build_cases is not None:
        build_cases(built, scale=scale, seed=seed, progress=_bar(progress, "生成事件"))
    build_intake(built)
    from .matching import build_matching

    for username, label in build_matching(built, scale=scale, seed=seed):
        logins.append(DemoLogin(username, label))
    from .brain import build_brain

    build_brain(progress=_bar(progress, "统计汇总"))
    from yiwang.search.index import rebuild

    rebuild(progress=_bar(progress, "建立检索索引"))
    return logins


def existing_logins() -> list[DemoLogin]:
    """The logins of a demo built earlier, labelled by their roles."""
    from yiwang.org.models import Role

    User = get_user_model()
    logins = []
    roles: dict[int, list[str]] = {}
    for role in Role.objects.select_related(
        "district", "street", "community", "grid", "department"
    ).order_by("id"):
        roles.setdefault(role.user_id, []).append(f"{role.get_kind_display()} · {role.node}")
    for user in User.objects.filter(is_active=True).order_by("id")[:50]:
        if user.is_superuser:
            label = "系统管理员 (全部权限)"
        else:
            label = ";".join(roles.get(user.id, [])) or "(无角色)"
        logins.append(DemoLogin(user.username, label))
    return logins
