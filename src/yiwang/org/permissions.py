"""Named permissions, granted by role kind. One table, read by services, views and tests."""

from .models import RoleKind

MANAGE_TREE = "manage_tree"  # create and change streets, communities, grids, buildings
MANAGE_TEAMS = "manage_teams"  # assign grid team members
IMPORT_TREE = "import_tree"  # import grids and the address base
READ_ACCESS_LOG = "read_access_log"

GRANTS: dict[str, frozenset[str]] = {
    RoleKind.DISTRICT_ADMIN: frozenset({MANAGE_TREE, MANAGE_TEAMS, IMPORT_TREE}),
    RoleKind.DISTRICT_LEADER: frozenset(),
    RoleKind.AUDITOR: frozenset({READ_ACCESS_LOG}),
    RoleKind.STREET_LEADER: frozenset({MANAGE_TEAMS}),
    RoleKind.STREET_STAFF: frozenset({MANAGE_TEAMS}),
    RoleKind.COMMUNITY_STAFF: frozenset({MANAGE_TEAMS}),
    RoleKind.GRID_WORKER: frozenset(),
    RoleKind.DEPARTMENT_STAFF: frozenset(),
}


def has_permission(actor, permission: str) -> bool:
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return False
    if actor.is_superuser:
        return True
    from .selectors import scope_for

    return any(permission in GRANTS.get(kind, ()) for kind in scope_for(actor).role_kinds)
