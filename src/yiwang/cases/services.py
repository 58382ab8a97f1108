"""Every change to a case. Each service takes the acting user first, checks the role (policy)
and the state (the transition table), locks the case row, writes the change and its event in
one transaction, and notifies whom it concerns after commit."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.geo.index import locate
from yiwang.geo.resolve import resolve_address
from yiwang.org.models import Department, Grid

from . import events, notify, policy
from .deadlines import deadline_for
from .errors import CaseConflict, invalid_transition, stale
from .locks import lock_case
from .models import Assignment, Case, Category, Follower, MutualRating
from .numbering import next_number
from .states import (
    LEVEL_ORDER,
    OUTCOMES_NEEDING_REASON,
    TRANSITIONS,
    Action,
    Channel,
    Level,
    Mode,
    Outcome,
    Satisfaction,
    State,
    allowed_actions,
    level_above,
)

# Called inside the reply's transaction with the replied case. Channels that must carry the
# reply back (the 12345 hotline) register here, so this app never imports them.
REPLY_HOOKS: list = []


def register_reply_hook(hook) -> None:
    if hook not in REPLY_HOOKS:
        REPLY_HOOKS.append(hook)


# Where a new case first lands, by handling mode.
FIRST_LEVEL = {
    Mode.IMMEDIATE: Level.GRID,
    Mode.FAST: Level.COMMUNITY,
    Mode.ASSIGNED: Level.COMMUNITY,
    Mode.JOINT: Level.STREET,
    Mode.TOP: Level.STREET,
}
# Faster modes cap the category's resolution time (working hours).
MODE_RESOLVE_CAP = {Mode.IMMEDIATE: 2.0, Mode.FAST: 16.0}


def _err(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


# -- report --------------------------------------------------------------------------------


def case_report(
    *,
    actor,
    channel: str,
    category: Category,
    title: str,
    description: str = "",
    address: str = "",
    lat: float | None = None,
    lng: float | None = None,
    reporter_name: str = "",
    reporter_phone: str = "",
    anonymous: bool = False,
    wants_reply: bool = True,
    mode: str | None = None,
    external_id: str = "",
    idempotency_key: str | None = None,
    reported_at=None,
    first_level: str | None = None,
) -> Case:
    """群众吹哨: creates a case in exactly one grid (from the point, else the address), numbered,
    with its deadlines. The same idempotency key returns the first case instead of a second."""
    if idempotency_key:
        existing = Case.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    if channel not in Channel.values:
        raise _err("channel", _("未知来源 %(v)s") % {"v": channel})
    # Two levels: a leaf is a category with a parent.
    if not category.is_active or category.parent_id is None:
        raise _err("category", _("请选择具体的二级类别"))
    title = (title or "").strip()
    if not title:
        raise _err("title", _("标题不能为空"))
    if len(title) > 120:
        raise _err("title", _("标题不能超过 120 字"))
    if len(description or "") > 4000:
        raise _err("description", _("描述不能超过 4000 字"))
    grid_id, building_id = None, None
    if lat is not None and lng is not None:
        found = locate(lat, lng)
        if not found.inside:
            if found.grid_id is None:
                raise _err("location", _("尚未导入网格"))
            raise _err(
                "location",
                _("该位置不在本区范围内 (距最近的%(grid)s约 %(d)s 米)")
                % {"grid": found.grid_name, "d": int(found.distance_m or 0)},
            )
        grid_id = found.grid_id
    if address:
        resolution = resolve_address(address)
        building_id = resolution.building_id
        if grid_id is None:
            if resolution.grid_id is None:
                raise _err("address", _("无法确定地址所在网格:%(m)s") % {"m": resolution.message})
            grid_id = resolution.grid_id
            if lat is None and resolution.lat is not None:
                lat, lng = resolution.lat, resolution.lng
    if grid_id is None:
        raise _err("location", _("请在地图上选择位置或填写地址"))
    grid = Grid.objects.select_related("community").get(id=grid_id)
    mode = mode or category.default_mode
    if mode not in Mode.values:
        raise _err("mode", _("未知办理方式 %(v)s") % {"v": mode})
    now = reported_at or timezone.now()
    resolve_hours = min(category.resolve_hours, MODE_RESOLVE_CAP.get(mode, 1e9))
    try:
        with transaction.atomic():
            case = Case.objects.create(
                number=next_number(now),
                channel=channel,
                category=category,
                title=title,
                description=description or "",
                address=address or "",
                lat=lat,
                lng=lng,
                grid=grid,
                community_id=grid.community_id,
                street_id=grid.street_id,
                building_id=building_id,
                reporter=actor if actor is not None and actor.is_authenticated else None,
                reporter_name=reporter_name if not anonymous else "",
                reporter_phone=reporter_phone,
                anonymous=anonymous,
                wants_reply=wants_reply,
                external_id=external_id,
                mode=mode,
                level=first_level or FIRST_LEVEL[mode],
                reported_at=now,
                response_due=deadline_for(now, category.response_hours, category.working_hours),
                resolve_due=deadline_for(now, resolve_hours, category.working_hours),
                idempotency_key=idempotency_key,
            )
            events.record(
                case,
                actor=actor,
                action=Action.REPORT,
                to_state=State.REPORTED,
                note=description[:200] if description else "",
                data={"channel": channel, "mode": mode, "grid": grid.code},
                at=now,
            )
            if case.reporter_id:
                Follower.objects.create(case=case, user_id=case.reporter_id)
    except IntegrityError:
        # Two submissions with one idempotency key raced: the first one stands.
        if idempotency_key:
            existing = Case.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        raise
    return case


def case_follow(*, actor, case: Case) -> Follower:
    """ "Follow it instead": a signed-in resident follows an open case rather than reporting it
    again, and hears its outcome with the reporter. Idempotent; refuses anonymous visitors and
    closed cases."""
    if actor is None or not actor.is_authenticated:
        raise PermissionDenied("follow")
    if not case.is_open:
        raise _err("case", _("该事件已办结,无法跟进"))
    with transaction.atomic():
        follower, created = Follower.objects.get_or_create(case=case, user=actor)
        if created:
            events.record(case, actor=actor, action=Action.NOTE, note=_("群众跟进此事件"))
    return follower


# -- the transition machinery ----------------------------------------------------------------


def _begin(actor, case: Case, action: str, expected_version: int | None) -> tuple[Case, str]:
    """Locks the case, checks the version, the role and the state. Returns the locked row
    and the state it was in."""
    locked = lock_case(case.id)
    if expected_version is not None and locked.version != expected_version:
        raise stale(locked.state, allowed_actions(locked.state))
    # actor=None is the system itself (intake routing, the worker); requests always carry a user.
    if actor is not None and not policy.can(actor, action, locked):
        raise PermissionDenied(action)
    froms, _to = TRANSITIONS[action]
    if locked.state not in froms:
        raise invalid_transition(action, locked.state, allowed_actions(locked.state))
    return locked, locked.state


def _save(case: Case, fields: list[str]) -> None:
    case.version = F("version") + 1
    case.save(update_fields=[*fields, "version", "updated_at"])
    case.refresh_from_db(fields=["version"])


def _move(actor, case, action, *, note="", data=None, fields=(), to_state=None, at=None):
    from_state = case.state
    target = to_state or TRANSITIONS[action][1]
    if target:
        case.state = target
    _save(case, [*fields, "state"])
    events.record(
        case,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=case.state,
        note=note,
        data=data,
        at=at,
    )
    return case


def _respond(case: Case, now) -> list[str]:
    if case.responded_at is None:
        case.responded_at = now
        return ["responded_at"]
    return []


# -- desk actions ----------------------------------------------------------------------------


def case_accept(*, actor, case: Case, note: str = "", expected_version: int | None = None) -> Case:
    with transaction.atomic():
        case, _prev = _begin(actor, case, Action.ACCEPT, expected_version)
        fields = _respond(case, timezone.now())
        _move(actor, case, Action.ACCEPT, note=note, fields=fields)
    notify.case_changed(case, _("您反映的问题已受理 (%(n)s)") % {"n": case.number})
    return case


def case_reject(
    *,
    actor,
    case: Case,
    outcome: str,
    reason: str,
    duplicate_of: Case | None = None,
    expected_version: int | None = None,
) -> Case:
    """Not taken on: invalid, or a duplicate of another case (linked, its reporter follows it)."""
    if outcome not in (Outcome.INVALID, Outcome.DUPLICATE):
        raise _err("outcome", _("不予受理的结果只能是无效件或重复件"))
    if not (reason or "").strip():
        raise _err("reason", _("请填写理由"))
    if outcome == Outcome.DUPLICATE and duplicate_of is None:
        raise _err("duplicate_of", _("重复件须关联原事件"))
    with transaction.atomic():
        case, _prev = _begin(actor, case, Action.REJECT, expected_version)
        now = timezone.now()
        case.outcome, case.outcome_note, case.closed_at = outcome, reason.strip(), now
        case.closed_by = actor if actor and actor.is_authenticated else None
        fields = ["outcome", "outcome_note", "closed_at", "closed_by", *_respond(case, now)]
        if duplicate_of is not None:
            case.duplicate_of = duplicate_of
            fields.append("duplicate_of")
            _follow_original(case, duplicate_of)
        _move(
            actor,
            case,
            Action.REJECT,
            note=reason,
            fields=fields,
            data={"duplicate_of": duplicate_of.number if duplicate_of else None},
        )
    notify.case_changed(
        case, _("您反映的问题 (%(n)s) 不予受理:%(r)s") % {"n": case.number, "r": reason}
    )
    return case


def _follow_original(duplicate: Case, original: Case) -> None:
    for user_id in Follower.objects.filter(case=duplicate).values_list("user_id", flat=True):
        Follower.objects.get_or_create(case=original, user_id=user_id)


def case_merge(*, actor, case: Case, into: Case, note: str = "") -> Case:
    """Staff merge a duplicate found after the fact; its reporters hear the original's outcome."""
    if case.id == into.id:
        raise _err("into", _("不能与自身合并"))
    if not policy.can_see(actor, into):
        raise _err("into", _("原事件不存在或无权访问"))
    if into.state not in (set(TRANSITIONS[Action.MERGE][0]) | {State.CLOSED}):
        raise _err("into", _("原事件已不予受理,不能合并到它"))
    with transaction.atomic():
        case, _prev = _begin(actor, case, Action.MERGE, None)
        now = timezone.now()
        case.outcome, case.duplicate_of, case.closed_at = Outcome.DUPLICATE, into, now
        case.outcome_note = note or _("与 %(n)s 为同一问题,已合并") % {"n": into.number}
        case.closed_by = actor
        _follow_original(case, into)
        _move(
            actor,
            case,
            Action.MERGE,
            note=case.outcome_note,
            fields=["outcome", "duplicate_of", "closed_at", "outcome_note", "closed_by"],
            data={"into": into.number},
        )
        events.record(
            into, actor=actor, action=Action.NOTE, note=_("合并了 %(n)s") % {"n": case.number}
        )
    notify.case_changed(
        case, _("您反映的问题已与 %(n)s 合并办理,结果将一并告知") % {"n": into.number}
    )
    return case


def case_dispatch(
    *,
    actor,
    case: Case,
    lead: Department | None = None,
    assists: list[Department] | tuple = (),
    to_level: str | None = None,
    mode: str | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Case:
    """派单: to a lead department (分办), with co-handlers (联办), or down the tree to a lower
    desk. For 联办 and 顶格办 the summoned departments must check in (吹哨报到)."""
    if lead is None and to_level is None:
        raise _err("lead", _("请选择主办部门或下派层级"))
    if lead is not None and lead in assists:
        raise _err("assists", _("主办部门不能同时是协办部门"))
    if assists and lead is None:
        raise _err("lead", _("联办须指定主办部门"))
    with transaction.atomic():
        case, _prev = _begin(actor, case, Action.DISPATCH, expected_version)
        now = timezone.now()
        fields = _respond(case, now)
        data: dict = {}
        if mode:
            if mode not in Mode.values:
                raise _err("mode", _("未知办理方式"))
            case.mode = mode
            fields.append("mode")
        if assists and case.mode not in (Mode.JOINT, Mode.TOP):
            case.mode = Mode.JOINT
            fields.append("mode")
        if to_level is not None:
            mine = policy.desk_level(actor, case) if actor is not None else Level.DISTRICT
            if to_level not in LEVEL_ORDER or LEVEL_ORDER.index(to_level) > LEVEL_ORDER.index(mine):
                raise _err("to_level", _("只能向本级或下级派单"))
            case.level = to_level
            fields.append("level")
            data["to_level"] = to_level
        if lead is not None:
            Assignment.objects.filter(case=case).exclude(
                status__in=[Assignment.Status.DONE]
            ).update(status=Assignment.Status.RETURNED)
            whistle = case.mode in (Mode.JOINT, Mode.TOP)
            checkin_due = (
                deadline_for(now, case.category.response_hours, case.category.working_hours)
                if whistle
                else None
            )
            for dept, role in [(lead, Assignment.Role.LEAD)] + [
                (d, Assignment.Role.ASSIST) for d in assists
            ]:
                Assignment.objects.create(
                    case=case,
                    department=dept,
                    role=role,
                    status=Assignment.Status.PENDING if whistle else Assignment.Status.CHECKED_IN,
                    checkin_due=checkin_due,
                    checked_in_at=None if whistle else now,
                    created_at=now,
                )
            case.department = lead
            fields.append("department")
            data.update(lead=lead.name, assists=[d.name for d in assists], whistle=whistle)
        _move(actor, case, Action.DISPATCH, note=note, fields=fields, data=data)
    if lead is not None:
        notify.departments(
            [lead, *assists],
            case,
            _("新派单 %(n)s:%(t)s") % {"n": case.number, "t": case.title},
        )
    return case


def case_escalate(
    *, actor, case: Case, reason: str, expected_version: int | None = None, system: bool = False
) -> Case:
    """Up one level (社区 → 街道 → 区), with a reason. At the district it becomes 顶格办."""
    if not (reason or "").strip():
        raise _err("reason", _("请填写上报理由"))
    with transaction.atomic():
        if system:
            case = lock_case(case.id)
        else:
            case, _prev = _begin(actor, case, Action.ESCALATE, expected_version)
        up = level_above(case.level)
        fields = ["level"]
        if up is None:
            up = Level.DISTRICT
        case.level = up
        if up == Level.DISTRICT or (up == Level.STREET and case.mode == Mode.TOP):
            case.mode = Mode.TOP
            fields.append("mode")
        _move(
            actor,
            case,
            Action.ESCALATE,
            note=reason,
            fields=fields,
            data={"to_level": up},
            to_state=State.ESCALATED,
        )
    return case


def case_take(*, actor, case: Case, note: str = "") -> Case:
    """领办: a leader takes the case personally; it shows on their desk."""
    with transaction.atomic():
        case, _prev = _begin(actor, case, Action.TAKE, None)
        case.leader = actor
        _move(actor, case, Action.TAKE, note=note, fields=["leader"])
    return case


# -- handling ---------------------------------------------------------------------------------


def case_check_in(*, actor, case: Case, note: str = "") -> Assignment:
    """报到: a summoned department confirms it is on the case."""
    with transaction.atomic():
        case, _prev = _begin(actor, case, Action.CHECK_IN, None)
        assignment = policy.assignment_of(actor, case)
        if assignment.status != Assignment.Status.PENDING:
            raise CaseConflict(
                _("本部门已报到"), state=case.state, allowed=allowed_actions(case.state)
            )
        now = timezone.now()
        assignment.status = Assignment.Status.CHECKED_IN
        assignment.checked_in_at = now
        assignment.save(update_fields=["status", "checked_in_at"])
        late = assignment.checkin_due is not None and now > assignment.checkin_due
        _move(
            actor,
            case,
            Action.CHECK_IN,
            note=note,
            data={"department": assignment.department.name, "late": late},
            fields=_respond(case, now),
        )
    return assignment


def case_start(*, actor, case: Case, note: str = "", expected_version: int | None = None) -> Case:
    with transaction.atomic():
        case, _prev = _begin(actor, case, Action.START, expected_version)
        fields = _respond(case, timezone.now())
        assignment = policy.assignment_of(actor, case, role=Assignment.Role.LEAD)
        if assignment is not None and assignment.status == Assignment.Status.PENDING:
            assignment.status = Assignment.Status.CHECKED_IN
            assignment.checked_in_at = timezone.now()
            assignment.save(update_fields=["status", "checked_in_at"])
        _move(actor, case, Action.START, note=note, fields=fields)
    return case


def case_return(*, actor, case: Case, reason: str, expected_version: int | None = None) -> Case:
    """退单: a department sends back a wrong dispatch, with a reason, to the dispatcher's queue."""
    if not (reason or "").strip():
        raise _err("reason", _("请填写退单理由"))
    with transaction.atomic():
        case, _prev = _begin(actor, case, Action.RETURN, expected_version)
        Assignment.objects.filter(case=case).exclude(status=Assignment.Status.DONE).update(
            status=Assignment.Status.RETURNED, return_reason=reason.strip()
        )
        department = case.department
        case.department = None
        _move(
            actor,
            case,
            Action.RETURN,
            note=reason,
            fields=["department"],
            data={"department": department.name if department else None},
        )
    return case


def case_part_done(*, actor, case: Case, report: str) -> Assignment:
    """A 联办 co-handler reports its part."""
    if not (report or "").strip():
        raise _err("report", _("请填写办理情况"))
    with transaction.atomic():
        case, _prev = _begin(actor, case, Action.PART_DONE, None)
        assignment = policy.assignment_of(actor, case, role=Assignment.Role.ASSIST)
        if assignment.status == Assignment.Status.DONE:
            raise CaseConflict(
                _("本部门已提交办理情况"), state=case.state, allowed=allowed_actions(case.state)
            )
        now = timezone.now()
        assignment.status = Assignment.Status.DONE
        assignment.done_at = now
        assignment.report = report.strip()
        if assignment.checked_in_at is None:
            assignment.checked_in_at = now
        assignment.save(update_fields=["status", "done_at", "report", "checked_in_at"])
        _move(
            actor,
            case,
            Action.PART_DONE,
            note=report,
            data={"department": assignment.department.name},
        )
    return assignment


def case_reply(*, actor, case: Case, reply: str, expected_version: int | None = None) -> Case:
    """答复: what the handler tells the reporter. For 联办, only when every co-handler's part is in."""
    reply = (reply or "").strip()
    if not reply:
        raise _err("reply", _("答复内容不能为空"))
    with transaction.atomic():
        case, _prev = _begin(actor, case, Action.REPLY, expected_version)
        missing = list(
            Assignment.objects.filter(case=case, role=Assignment.Role.ASSIST)
            .exclude(status__in=[Assignment.Status.DONE, Assignment.Status.RETURNED])
            .values_list("department__name", flat=True)
        )
        if missing:
            raise CaseConflict(
                _("协办部门尚未提交办理情况:%(d)s") % {"d": "、".join(missing)},
                state=case.state,
                allowed=allowed_actions(case.state),
            )
        now = timezone.now()
        case.reply, case.replied_at = reply, now
        _move(actor, case, Action.REPLY, note=reply, fields=["reply", "replied_at"])
        for hook in REPLY_HOOKS:
            hook(case)
    notify.case_changed(
        case, _("您反映的问题 (%(n)s) 已答复:%(r)s") % {"n": case.number, "r": reply[:80]}
    )
    return case


def case_verify(
    *, actor, case: Case, ok: bool, note: str = "", expected_version: int | None = None
) -> Case:
    """核查: the grid worker or the reporter checks on site. Not solved → back to the handler."""
    action = Action.VERIFY if ok else Action.VERIFY_FAIL
    if not ok and not (note or "").strip():
        raise _err("note", _("请说明核查未通过的情况"))
    with transaction.atomic():
        case, _prev = _begin(actor, case, action, expected_version)
        _move(actor, case, action, note=note)
    return case


def case_close(
    *,
    actor,
    case: Case,
    outcome: str,
    note: str = "",
    transferred_to: str = "",
    expected_version: int | None = None,
) -> Case:
    """办结 with an honest outcome, shown to the reporter and counted as it is."""
    if outcome not in (Outcome.SOLVED, Outcome.PARTLY, Outcome.UNSOLVABLE, Outcome.NOT_OURS):
        raise _err("outcome", _("请选择办结结果"))
    if outcome in OUTCOMES_NEEDING_REASON and not (note or "").strip():
        raise _err("note", _("“%(o)s”须说明原因") % {"o": Outcome(outcome).label})
    if outcome == Outcome.NOT_OURS and not (transferred_to or "").strip():
        raise _err("transferred_to", _("请填写已移交的单位"))
    with transaction.atomic():
        case, _prev = _begin(actor, case, Action.CLOSE, expected_version)
        now = timezone.now()
        case.outcome, case.outcome_note = outcome, (note or "").strip()
        case.transferred_to = (transferred_to or "").strip()
        case.closed_at = now
        case.closed_by = actor
        Assignment.objects.filter(case=case, role=Assignment.Role.LEAD).exclude(
            status=Assignment.Status.RETURNED
        ).update(status=Assignment.Status.DONE, done_at=now)
        _move(
            actor,
            case,
            Action.CLOSE,
            note=note,
            fields=["outcome", "outcome_note", "transferred_to", "closed_at", "closed_by"],
            data={"outcome": outcome},
        )
    notify.case_changed(
        case,
        _("您反映的问题 (%(n)s) 已办结,结果:%(o)s")
        % {"n": case.number, "o": Outcome(outcome).label},
    )
    return case


def case_resolve_on_spot(*, actor, case: Case, reply: str, after_photo) -> Case:
    """即办: the grid team fixes it on the spot; the after-photo is the proof. Writes each step
    as its own event, in one transaction."""
    if not after_photo:
        raise _err("after_photo", _("即办须上传处置后照片"))
    from .photos import attach_photo

    with transaction.atomic():
        if case.state in (State.REPORTED,):
            case = case_accept(actor=actor, case=case)
        if case.state == State.ACCEPTED:
            case = case_start(actor=actor, case=case)
        case = case_reply(actor=actor, case=case, reply=reply)
        attach_photo(actor=actor, case=case, upload=after_photo, kind="after")
        case = case_verify(actor=actor, case=case, ok=True, note=_("现场处置完毕"))
        case = case_close(actor=actor, case=case, outcome=Outcome.SOLVED, note=reply)
    return case


# -- after closure -----------------------------------------------------------------------------


def case_rate(*, actor, case: Case, satisfaction: str, note: str = "") -> Case:
    """The reporter's rating (or a desk recording it from a callback). 不满意 reopens the case once,
    back to whoever closed it."""
    if satisfaction not in Satisfaction.values:
        raise _err("satisfaction", _("评价只能是 满意、基本满意 或 不满意"))
    if satisfaction == Satisfaction.UNSATISFIED and not (note or "").strip():
        raise _err("note", _("请说明不满意的原因"))
    with transaction.atomic():
        case, _prev = _begin(actor, case, Action.RATE, None)
        if case.satisfaction:
            raise CaseConflict(_("已评价"), state=case.state, allowed=[])
        case.satisfaction = satisfaction
        _move(
            actor,
            case,
            Action.RATE,
            note=note,
            fields=["satisfaction"],
            data={"satisfaction": satisfaction},
        )
        if satisfaction == Satisfaction.UNSATISFIED and case.reopen_count == 0:
            _reopen(actor, case, note)
    return case


def _reopen(actor, case: Case, reason: str) -> None:
    # Kept in the event: figures counted on the day it closed must be recounted.
    previous_closed_at = case.closed_at.isoformat() if case.closed_at else None
    case.reopen_count += 1
    case.outcome = ""
    case.closed_at = None
    case.satisfaction = ""
    now = timezone.now()
    case.resolve_due = deadline_for(now, case.category.resolve_hours, case.category.working_hours)
    case.is_overdue = False
    case.warned = False
    fields = [
        "reopen_count",
        "outcome",
        "closed_at",
        "satisfaction",
        "resolve_due",
        "is_overdue",
        "warned",
    ]
    # Back to the handler who closed it: its department part reopens too.
    Assignment.objects.filter(
        case=case, role=Assignment.Role.LEAD, status=Assignment.Status.DONE
    ).update(status=Assignment.Status.CHECKED_IN, done_at=None)
    _move(
        actor,
        case,
        Action.REOPEN,
        note=reason,
        fields=fields,
        data={"back_to": case.closed_by_id, "previous_closed_at": previous_closed_at},
        to_state=State.REOPENED,
    )
    if case.closed_by_id:
        notify.users(
            [case.closed_by_id],
            case,
            _("%(n)s 因群众不满意被重办:%(r)s") % {"n": case.number, "r": reason},
        )


def case_reopen(*, actor, case: Case, reason: str) -> Case:
    if not (reason or "").strip():
        raise _err("reason", _("请填写重办理由"))
    with transaction.atomic():
        case, _prev = _begin(actor, case, Action.REOPEN, None)
        _reopen(actor, case, reason)
    return case


def assignment_rate(*, actor, assignment: Assignment, direction: str, score: int, note: str = ""):
    """吹哨报到 two-way rating, after closure."""
    case = assignment.case
    if case.state != State.CLOSED:
        raise CaseConflict(
            _("事件办结后才能评价"), state=case.state, allowed=allowed_actions(case.state)
        )
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise _err("score", _("评分须为 1 到 5 的整数"))
    if direction == MutualRating.Direction.DESK_RATES_DEPARTMENT:
        allowed = policy.desk_can_act(actor, case)
    elif direction == MutualRating.Direction.DEPARTMENT_RATES_DESK:
        allowed = assignment.department_id in (
            policy.scope_for(actor).department_ids if actor.is_authenticated else ()
        )
    else:
        raise _err("direction", _("未知评价方向"))
    if not allowed:
        raise PermissionDenied("rate")
    try:
        with transaction.atomic():
            return MutualRating.objects.create(
                assignment=assignment, direction=direction, score=score, note=note, rater=actor
            )
    except IntegrityError:
        raise CaseConflict(_("已评价"), state=case.state, allowed=[]) from None
