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
        }
    ),
    RoleKind.DISTRICT_LEADER: frozenset(),
    RoleKind.AUDITOR: frozenset({READ_ACCESS_LOG}),
    RoleKind.STREET_LEADER: frozenset({MANAGE_TEAMS, REVEAL_PERSONAL, EXPORT_PERSONAL}),
    RoleKind.STREET_STAFF: frozenset(
        {MANAGE_TEAMS, MANAGE_REGISTRY, IMPORT_REGISTRY, REVEAL_PERSONAL, EXPORT_PERSONAL}
    ),
    RoleKind.COMMUNITY_STAFF: frozenset(
        {MANAGE_TEAMS, MANAGE_REGISTRY, IMPORT_REGISTRY, REVEAL_PERSONAL, EXPORT_PERSONAL}
    ),
    # Grid workers keep their grid's ledger (台账) and call its people.
    RoleKind.GRID_WORKER: frozenset(
        {MANAGE_REGISTRY, IMPORT_REGISTRY, REVEAL_PERSONAL, EXPORT_PERSONAL}
    ),
    RoleKind.DEPARTMENT_STAFF: frozenset(),
}


def has_permission(actor, permission: str) -> bool:
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return False
    if actor.is_superuser:
        return True
    from .selectors import scope_for

    return any(permission in GRANTS.get(kind, ()) for kind in scope_for(actor).role_kinds)
