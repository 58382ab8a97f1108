"""Named permissions, granted by role kind. One table, read by services, views and tests."""

from .models import RoleKind

MANAGE_TREE = "manage_tree"  # create and change streets, communities, grids, buildings
MANAGE_TEAMS = "manage_teams"  # assign grid team members
IMPORT_TREE = "import_tree"  # import grids and the address base
READ_ACCESS_LOG = "read_access_log"
# The registry (人、地、物、组织) and personal information.
MANAGE_REGISTRY = "manage_registry"  # create, edit and archive residents, houses, places, orgs
IMPORT_REGISTRY = "import_registry"  # import residents from spreadsheets
REVEAL_PERSONAL = "reveal_personal"  # see an ID or phone number unmasked, with a stated reason
EXPORT_PERSONAL = "export_personal"  # export lists of people
# The resource and demand lists, and open calls (揭榜).
MANAGE_MATCHING = "manage_matching"  # post demands, register providers, offer demands to them
VERIFY_PROVIDERS = "verify_providers"  # admit (or suspend) a provider and its partner status
PUBLISH_CALLS = "publish_calls"  # publish open calls for the unit, choose and evaluate partners

GRANTS: dict[str, frozenset[str]] = {
    RoleKind.DISTRICT_ADMIN: frozenset(
        {
            MANAGE_TREE,
            MANAGE_TEAMS,
            IMPORT_TREE,
            MANAGE_REGISTRY,
            IMPORT_REGISTRY,
            REVEAL_PERSONAL,
            EXPORT_PERSONAL,
            MANAGE_MATCHING,
            VERIFY_PROVIDERS,
            PUBLISH_CALLS,
        }
    ),
    RoleKind.DISTRICT_LEADER: frozenset({PUBLISH_CALLS}),
    RoleKind.AUDITOR: frozenset({READ_ACCESS_LOG}),
    RoleKind.STREET_LEADER: frozenset(
        {MANAGE_TEAMS, REVEAL_PERSONAL, EXPORT_PERSONAL, VERIFY_PROVIDERS, PUBLISH_CALLS}
    ),
    RoleKind.STREET_STAFF: frozenset(
        {
            MANAGE_TEAMS,
            MANAGE_REGISTRY,
            IMPORT_REGISTRY,
            REVEAL_PERSONAL,
            EXPORT_PERSONAL,
            MANAGE_MATCHING,
            VERIFY_PROVIDERS,
            PUBLISH_CALLS,
        }
    ),
    RoleKind.COMMUNITY_STAFF: frozenset(
        {
            MANAGE_TEAMS,
            MANAGE_REGISTRY,
            IMPORT_REGISTRY,
            REVEAL_PERSONAL,
            EXPORT_PERSONAL,
            MANAGE_MATCHING,
            VERIFY_PROVIDERS,
            PUBLISH_CALLS,
        }
    ),
    # Grid workers keep their grid's ledger (台账), call its people and post their needs.
    RoleKind.GRID_WORKER: frozenset(
        {MANAGE_REGISTRY, IMPORT_REGISTRY, REVEAL_PERSONAL, EXPORT_PERSONAL, MANAGE_MATCHING}
    ),
    RoleKind.DEPARTMENT_STAFF: frozenset({PUBLISH_CALLS}),
}


def has_permission(actor, permission: str) -> bool:
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return False
    if actor.is_superuser:
        return True
    from .selectors import scope_for

    return any(permission in GRANTS.get(kind, ()) for kind in scope_for(actor).role_kinds)


def require_permission(actor, permission: str) -> None:
    """What every service checks first. `actor=None` is the system itself (migrations, the
    demo generator, the worker, the command line), which may do anything."""
    if actor is not None and not has_permission(actor, permission):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(permission)
