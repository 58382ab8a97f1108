"""Every handling mode end to end, 退单, reopen on 不满意, and each honest outcome."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.cases.conftest import jpeg
from yiwang.cases import services as s
from yiwang.cases.errors import CaseConflict
from yiwang.cases.models import Assignment, Attachment, MutualRating, Notification
from yiwang.cases.states import Level, Mode, Outcome, State


def actions(case):
    return list(case.events.values_list("action", flat=True))


def test_report_lands_in_grid_with_number_and_deadlines(report, tree):
    case = report()
    assert case.grid == tree.grid_a1
    assert case.community == tree.community_a and case.street == tree.street_a
    assert case.number.startswith("SB") and case.number.endswith("-000001")
    assert case.state == State.REPORTED
    assert case.mode == Mode.FAST and case.level == Level.COMMUNITY
    assert case.reported_at < case.response_due < case.resolve_due
    assert actions(case) == ["report"]
    second = report()
    assert second.number.endswith("-000002")


def test_immediate_on_the_spot(report, worker_a, cat):
    case = report(actor=worker_a, mode=Mode.IMMEDIATE, channel="grid_worker")
    assert case.level == Level.GRID
    with pytest.raises(ValidationError):
        s.case_resolve_on_spot(actor=worker_a, case=case, reply="已清理", after_photo=None)
    case = s.case_resolve_on_spot(
        actor=worker_a, case=case, reply="已现场清理完毕", after_photo=jpeg()
    )
    assert case.state == State.CLOSED and case.outcome == Outcome.SOLVED
    assert actions(case) == ["report", "accept", "start", "reply", "verify", "close"]
    assert Attachment.objects.get(case=case).kind == "after"


def test_fast_handled_by_community(transactional_db, report, community_a_staff, worker_a, resident):
    case = report()
    case = s.case_accept(actor=community_a_staff, case=case)
    case = s.case_start(actor=community_a_staff, case=case)
    case = s.case_reply(actor=community_a_staff, case=case, reply="已安排环卫人员清理。")
    case = s.case_verify(actor=worker_a, case=case, ok=True, note="现场已干净")
    case = s.case_close(actor=community_a_staff, case=case, outcome=Outcome.SOLVED)
    case = s.case_rate(actor=resident, case=case, satisfaction="satisfied")
    assert case.state == State.CLOSED and case.satisfaction == "satisfied"
    texts = list(Notification.objects.filter(user=resident).values_list("text", flat=True))
    assert any("已受理" in t for t in texts)
    assert any("已答复" in t for t in texts)
    assert any("已办结" in t and "已解决" in t for t in texts)


def test_verification_failure_goes_back_to_handler(report, community_a_staff, worker_a):
    case = report()
    s.case_accept(actor=community_a_staff, case=case)
    s.case_start(actor=community_a_staff, case=case)
    s.case_reply(actor=community_a_staff, case=case, reply="已处理")
    with pytest.raises(ValidationError):
        s.case_verify(actor=worker_a, case=case, ok=False)
    case = s.case_verify(actor=worker_a, case=case, ok=False, note="杂物仍在")
    assert case.state == State.IN_PROGRESS


def test_assigned_to_one_department(report, community_a_staff, handlers, depts, worker_a):
    case = report("SRHJ01", title="人民路占道经营")
    assert case.mode == Mode.ASSIGNED
    s.case_accept(actor=community_a_staff, case=case)
    case = s.case_dispatch(actor=community_a_staff, case=case, lead=depts["cg"], note="请城管处理")
    assert case.state == State.DISPATCHED and case.department == depts["cg"]
    (a,) = case.assignments.all()
    assert a.role == "lead" and a.status == "checked_in"  # 分办 needs no 报到
    # Other departments cannot act on it.
    with pytest.raises(PermissionDenied):
        s.case_start(actor=handlers["zj"], case=case)
    case = s.case_start(actor=handlers["cg"], case=case)
    case = s.case_reply(actor=handlers["cg"], case=case, reply="已得到整治")
    case = s.case_verify(actor=worker_a, case=case, ok=True)
    # The desk cannot close what a department leads; the department closes it.
    with pytest.raises(PermissionDenied):
        s.case_close(actor=community_a_staff, case=case, outcome=Outcome.SOLVED)
    case = s.case_close(actor=handlers["cg"], case=case, outcome=Outcome.SOLVED)
    assert case.state == State.CLOSED
    assert Assignment.objects.get(case=case).status == "done"


def test_return_wrong_dispatch(report, community_a_staff, handlers, depts):
    case = report("SRHJ01")
    s.case_accept(actor=community_a_staff, case=case)
    s.case_dispatch(actor=community_a_staff, case=case, lead=depts["zj"])
    with pytest.raises(ValidationError):
        s.case_return(actor=handlers["zj"], case=case, reason=" ")
    case = s.case_return(actor=handlers["zj"], case=case, reason="占道经营不属住建职责")
    assert case.state == State.RETURNED and case.department is None
    assert Assignment.objects.get(case=case).status == "returned"
    assert case.events.last().note == "占道经营不属住建职责"
    # Back in the dispatcher's queue, dispatched again correctly.
    case = s.case_dispatch(actor=community_a_staff, case=case, lead=depts["cg"])
    assert case.state == State.DISPATCHED and case.department == depts["cg"]


def test_joint_with_two_co_handlers_and_check_in(
    report, street_staff, handlers, depts, worker_a, cat
):
    case = report("WZDJ01", title="楼顶违章搭建")
    assert case.mode == Mode.JOINT and case.level == Level.STREET
    s.case_accept(actor=street_staff, case=case)
    case = s.case_dispatch(
        actor=street_staff, case=case, lead=depts["zj"], assists=[depts["cg"], depts["sthj"]]
    )
    parts = {a.department.code: a for a in case.assignments.all()}
    assert {a.status for a in parts.values()} == {"pending"}
    assert all(a.checkin_due for a in parts.values())
    for key in ("zj", "cg", "sthj"):
        s.case_check_in(actor=handlers[key], case=case)
    with pytest.raises(CaseConflict):
        s.case_check_in(actor=handlers["cg"], case=case)
    case = s.case_start(actor=handlers["zj"], case=case)
    s.case_part_done(actor=handlers["cg"], case=case, report="已拆除违建杂物")
    with pytest.raises(CaseConflict) as exc:
        s.case_reply(actor=handlers["zj"], case=case, reply="已整治")
    assert "市北生态环境分局" in str(exc.value)
    with pytest.raises(PermissionDenied):
        s.case_part_done(actor=handlers["zj"], case=case, report="主办不是协办")
    s.case_part_done(actor=handlers["sthj"], case=case, report="扬尘已处理")
    case = s.case_reply(actor=handlers["zj"], case=case, reply="违建已拆除,现场已恢复")
    case = s.case_verify(actor=worker_a, case=case, ok=True)
    case = s.case_close(actor=handlers["zj"], case=case, outcome=Outcome.SOLVED)
    assert case.state == State.CLOSED
    # Two-way ratings after closure.
    lead = case.assignments.get(role="lead")
    s.assignment_rate(actor=street_staff, assignment=lead, direction="desk_dept", score=5)
    s.assignment_rate(actor=handlers["zj"], assignment=lead, direction="dept_desk", score=4)
    with pytest.raises(CaseConflict):
        s.assignment_rate(actor=street_staff, assignment=lead, direction="desk_dept", score=3)
    with pytest.raises(ValidationError):
        s.assignment_rate(
            actor=street_staff,
            assignment=case.assignments.get(department=depts["cg"]),
            direction="desk_dept",
            score=6,
        )
    with pytest.raises(PermissionDenied):
        s.assignment_rate(actor=handlers["cg"], assignment=lead, direction="dept_desk", score=1)
    assert MutualRating.objects.count() == 2


def test_top_escalation_and_leader_takes_it(report, community_a_staff, street_staff, leader):
    case = report()
    case = s.case_escalate(actor=community_a_staff, case=case, reason="涉及多个部门,社区无法协调")
    assert case.state == State.ESCALATED and case.level == Level.STREET
    # The community can no longer act: the case sits above its desk.
    with pytest.raises(PermissionDenied):
        s.case_accept(actor=community_a_staff, case=case)
    with pytest.raises(ValidationError):
        s.case_escalate(actor=street_staff, case=case, reason="")
    case = s.case_escalate(actor=street_staff, case=case, reason="需区级统筹")
    assert case.level == Level.DISTRICT and case.mode == Mode.TOP
    case = s.case_take(actor=leader, case=case, note="区领导领办")
    assert case.leader == leader
    case = s.case_accept(actor=leader, case=case)
    assert case.state == State.ACCEPTED


def test_reopen_once_on_unsatisfied(
    transactional_db, report, community_a_staff, worker_a, resident
):
    case = report()
    s.case_accept(actor=community_a_staff, case=case)
    s.case_start(actor=community_a_staff, case=case)
    s.case_reply(actor=community_a_staff, case=case, reply="已清理")
    s.case_verify(actor=worker_a, case=case, ok=True)
    s.case_close(actor=community_a_staff, case=case, outcome=Outcome.SOLVED)
    with pytest.raises(ValidationError):
        s.case_rate(actor=resident, case=case, satisfaction="unsatisfied")  # no reason
    with pytest.raises(ValidationError):
        s.case_rate(actor=resident, case=case, satisfaction="great")
    case = s.case_rate(actor=resident, case=case, satisfaction="unsatisfied", note="第二天又堆满了")
    assert case.state == State.REOPENED and case.reopen_count == 1
    assert case.outcome == "" and case.closed_at is None
    assert Notification.objects.filter(user=community_a_staff, text__contains="重办").exists()
    # Back to the handler who closed it.
    s.case_start(actor=community_a_staff, case=case)
    s.case_reply(actor=community_a_staff, case=case, reply="已再次清理并加装围挡")
    s.case_verify(actor=worker_a, case=case, ok=True)
    s.case_close(actor=community_a_staff, case=case, outcome=Outcome.PARTLY, note="物业仍需整改")
    case = s.case_rate(actor=resident, case=case, satisfaction="unsatisfied", note="还是不行")
    assert case.state == State.CLOSED and case.reopen_count == 1  # only once
    with pytest.raises(CaseConflict):
        s.case_rate(actor=resident, case=case, satisfaction="satisfied")


@pytest.mark.parametrize(
    "outcome, note, transferred_to, ok",
    [
        (Outcome.SOLVED, "", "", True),
        (Outcome.PARTLY, "", "", False),
        (Outcome.PARTLY, "已清理一半,余下需物业处理", "", True),
        (Outcome.UNSOLVABLE, "", "", False),
        (Outcome.UNSOLVABLE, "超出政策范围", "", True),
        (Outcome.NOT_OURS, "属供电公司职责", "", False),
        (Outcome.NOT_OURS, "属供电公司职责", "国网青岛供电公司", True),
        ("fixed", "", "", False),
    ],
)
def test_honest_outcomes(
    transactional_db,
    report,
    community_a_staff,
    worker_a,
    resident,
    outcome,
    note,
    transferred_to,
    ok,
):
    case = report()
    s.case_accept(actor=community_a_staff, case=case)
    s.case_start(actor=community_a_staff, case=case)
    s.case_reply(actor=community_a_staff, case=case, reply="答复")
    s.case_verify(actor=worker_a, case=case, ok=True)
    if not ok:
        with pytest.raises(ValidationError):
            s.case_close(
                actor=community_a_staff,
                case=case,
                outcome=outcome,
                note=note,
                transferred_to=transferred_to,
            )
        return
    case = s.case_close(
        actor=community_a_staff,
        case=case,
        outcome=outcome,
        note=note,
        transferred_to=transferred_to,
    )
    assert case.outcome == outcome
    text = Notification.objects.filter(user=resident).first().text
    assert str(Outcome(outcome).label) in text


def test_rejections(report, community_a_staff, resident):
    original = report()
    dup = report(title="同一处杂物")
    with pytest.raises(ValidationError):
        s.case_reject(actor=community_a_staff, case=dup, outcome=Outcome.DUPLICATE, reason="重复")
    dup = s.case_reject(
        actor=community_a_staff,
        case=dup,
        outcome=Outcome.DUPLICATE,
        reason="重复",
        duplicate_of=original,
    )
    assert dup.state == State.REJECTED and dup.duplicate_of == original
    invalid = report(title="测试")
    invalid = s.case_reject(
        actor=community_a_staff, case=invalid, outcome=Outcome.INVALID, reason="测试数据"
    )
    assert invalid.outcome == Outcome.INVALID


def test_invalid_transition_names_allowed_steps(report, community_a_staff):
    case = report()
    s.case_accept(actor=community_a_staff, case=case)
    with pytest.raises(CaseConflict) as exc:
        s.case_close(actor=community_a_staff, case=case, outcome=Outcome.SOLVED)
    assert exc.value.state == State.ACCEPTED
    assert "dispatch" in exc.value.allowed and "start" in exc.value.allowed
    assert "办结" in str(exc.value) and "派单" in str(exc.value)


def test_stale_version_loses(report, community_a_staff):
    case = report()
    version = case.version
    s.case_accept(actor=community_a_staff, case=case, expected_version=version)
    with pytest.raises(CaseConflict) as exc:
        s.case_start(actor=community_a_staff, case=case, expected_version=version)
    assert "已被他人更新" in str(exc.value)


def test_idempotency_key_creates_one_case(report):
    a = report(idempotency_key="form-123")
    b = report(idempotency_key="form-123")
    assert a.id == b.id


def test_bad_report_input(report, cat):
    from tests.conftest import LAT0, LNG0

    with pytest.raises(ValidationError) as exc:
        report(lat=LAT0, lng=LNG0 - 0.05)
    assert "location" in exc.value.message_dict
    assert "不在本区范围内" in exc.value.message_dict["location"][0]
    with pytest.raises(ValidationError) as exc:
        report(title="   ")
    assert "title" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        report("SRHJ")  # a top-level category
    assert "category" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        report(lat=None, lng=None, address="长江路8号")
    assert "address" in exc.value.message_dict
    case = report(lat=None, lng=None, address="伊春路168号紫云台小区2号楼")
    assert case.grid.code == "S02C0101" and case.building_id is not None
