"""Who may do what to a case. Each condition on its own line, so tests cover every branch.

Desks act at a level of the tree (grid, community, street, district); a desk may act on a case
sitting at its level or below within its part of the tree. Departments act through their
assignments. The reporter may verify, rate and follow their own case."""

from __future__ import annotations

from yiwang.org.models import RoleKind
from yiwang.org.selectors import scope_for

from .models import Assignment, Case
from .states import LEVEL_ORDER, Action, Level

DESK_KINDS = {
    RoleKind.DISTRICT_LEADER: Level.DISTRICT,
    RoleKind.DISTRICT_ADMIN: Level.DISTRICT,
    RoleKind.STREET_LEADER: Level.STREET,
    RoleKind.STREET_STAFF: Level.STREET,
    RoleKind.COMMUNITY_STAFF: Level.COMMUNITY,
    RoleKind.GRID_WORKER: Level.GRID,
}
LEADER_KINDS = {RoleKind.DISTRICT_LEADER, RoleKind.STREET_LEADER}


def desk_level(actor, case: Case) -> str | None:
    """The highest level at which this actor's desk covers the case, or None."""
    if actor is None or not actor.is_authenticated:
        return None
    if actor.is_superuser:
        return Level.DISTRICT
    from yiwang.org.models import Role

    best = None
    # Roles are read once per actor object (one request), not once per question asked.
    roles = getattr(actor, "_yiwang_roles", None)
    if roles is None:
        roles = list(
            Role.objects.filter(user=actor).only(
                "kind", "street_id", "community_id", "grid_id", "district_id"
            )
        )
        actor._yiwang_roles = roles
    for role in roles:
        level = DESK_KINDS.get(role.kind)
        if level is None:
            continue
        covers = (
            (level == Level.DISTRICT)
            or (level == Level.STREET and role.street_id == case.street_id)
            or (level == Level.COMMUNITY and role.community_id == case.community_id)
            or (level == Level.GRID and role.grid_id == case.grid_id)
        )
        if covers and (best is None or LEVEL_ORDER.index(level) > LEVEL_ORDER.index(best)):
            best = level
    return best


def desk_can_act(actor, case: Case) -> bool:
    level = desk_level(actor, case)
    return level is not None and LEVEL_ORDER.index(level) >= LEVEL_ORDER.index(case.level)


def assignment_of(actor, case: Case, *, role: str | None = None) -> Assignment | None:
    departments = scope_for(actor).department_ids if actor and actor.is_authenticated else ()
    if not departments:
        return None
    qs = Assignment.objects.filter(case=case, department_id__in=departments).exclude(
        status=Assignment.Status.RETURNED
    )
    if role:
        qs = qs.filter(role=role)
    return qs.order_by("role").first()


def is_reporter(actor, case: Case) -> bool:
    return bool(actor and actor.is_authenticated and case.reporter_id == actor.id)


def is_leader(actor, case: Case) -> bool:
    if actor is None or not actor.is_authenticated:
        return False
    if actor.is_superuser:
        return True
    kinds = scope_for(actor).role_kinds
    return bool(kinds & LEADER_KINDS) and desk_level(actor, case) in (Level.STREET, Level.DISTRICT)


def lead_department_acts(actor, case: Case) -> bool:
    return assignment_of(actor, case, role=Assignment.Role.LEAD) is not None


def can(actor, action: str, case: Case) -> bool:
    """Whether the actor's role allows the action on this case (the state is checked apart)."""
    desk = desk_can_act(actor, case)
    if action in (Action.ACCEPT, Action.REJECT, Action.DISPATCH, Action.ESCALATE, Action.MERGE):
        return desk
    if action == Action.START:
        return desk or lead_department_acts(actor, case)
    if action == Action.CHECK_IN:
        return assignment_of(actor, case) is not None
    if action == Action.RETURN:
        return lead_department_acts(actor, case)
    if action == Action.PART_DONE:
        return assignment_of(actor, case, role=Assignment.Role.ASSIST) is not None
    if action in (Action.REPLY, Action.CLOSE):
        if case.department_id:
            return lead_department_acts(actor, case) or desk_level(actor, case) == Level.DISTRICT
        return desk
    if action in (Action.VERIFY, Action.VERIFY_FAIL):
        return desk_level(actor, case) is not None or is_reporter(actor, case)
    if action == Action.RATE:
        return is_reporter(actor, case) or desk_level(actor, case) is not None
    if action == Action.REOPEN:
        return desk
    if action == Action.TAKE:
        return is_leader(actor, case)
    return False


def can_see(actor, case: Case) -> bool:
    """Desks see the cases in their part of the tree; departments only what was dispatched to
    them; a reporter their own."""
    if is_reporter(actor, case):
        return True
    if desk_level(actor, case) is not None:
        return True
    departments = scope_for(actor).department_ids if actor and actor.is_authenticated else ()
    return (
        bool(departments)
        and Assignment.objects.filter(case=case, department_id__in=departments).exists()
    )
