"""Deadlines on the district calendar, and the worker tick driven by a frozen clock across
Golden Week and its make-up working Saturday (调休)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from yiwang.cases.deadlines import deadline_tick
from yiwang.cases.models import CalendarDay, Case, Notification
from yiwang.cases.services import case_accept
from yiwang.cases.states import Action, Level, State

CST = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=CST)


def golden_week():
    for d in range(1, 8):
        CalendarDay.objects.create(date=date(2026, 10, d), name="国庆节")
    CalendarDay.objects.create(date=date(2026, 9, 27), is_workday=True, name="国庆调休")
    CalendarDay.objects.create(date=date(2026, 10, 10), is_workday=True, name="国庆调休")


def test_deadlines_skip_the_holiday_and_count_the_make_up_saturday(report, cat):
    golden_week()
    # 卫生死角: respond in 2, resolve in 16 working hours (9–12, 13:30–17:30 = 7 h a day).
    case = report("SRHJ04", reported_at=at(2026, 9, 30, 16, 0))
    # 1.5 h on Wed 30 Sep; 1–7 Oct off; 0.5 h on Thu 8 Oct.
    assert case.response_due == at(2026, 10, 8, 9, 30)
    # 1.5 + 7 (Thu 8) + 7 (Fri 9) = 15.5; the last 0.5 h on the make-up Saturday 10 Oct.
    assert case.resolve_due == at(2026, 10, 10, 9, 30)


def test_tick_escalates_after_expiry_not_before(transactional_db, report, cat, community_a_staff):
    golden_week()
    case = report("SRHJ04", reported_at=at(2026, 9, 30, 16, 0))
    # During the holiday nothing is overdue: the clock is stopped.
    counts = deadline_tick(now=at(2026, 10, 5, 12, 0))
    assert counts["escalated"] == 0
    case.refresh_from_db()
    assert case.level == Level.COMMUNITY and case.state == State.REPORTED
    # Not accepted by 09:30 on 8 Oct: up to the street.
    deadline_tick(now=at(2026, 10, 8, 9, 31))
    case.refresh_from_db()
    assert case.state == State.ESCALATED and case.level == Level.STREET
    assert case.events.filter(action=Action.ESCALATE).count() == 1
    # The street desk now has it; the community no longer acts at that level.
    from tests.cases.conftest import user
    from yiwang.org.models import RoleKind

    street = user("street_a_staff", RoleKind.STREET_STAFF, case.street)
    case = case_accept(actor=street, case=case)
    # Warned before the resolution deadline: under a fifth of the time left.
    counts = deadline_tick(now=at(2026, 10, 9, 17, 0))
    assert counts["warned"] == 1
    assert Notification.objects.filter(user=street, text__contains="即将超期").exists()
    assert deadline_tick(now=at(2026, 10, 9, 17, 1))["warned"] == 0  # once
    # Past 09:30 on the make-up Saturday: overdue, shown everywhere, up to the district.
    counts = deadline_tick(now=at(2026, 10, 10, 9, 31))
    assert counts["overdue"] == 1
    case.refresh_from_db()
    assert case.is_overdue and case.level == Level.DISTRICT
    assert case.events.filter(action=Action.OVERDUE).count() == 1
    assert deadline_tick(now=at(2026, 10, 10, 10, 0))["overdue"] == 0  # once per expiry
    assert Case.objects.filter(is_overdue=True).count() == 1


def test_late_check_in_is_recorded(report, cat, street_staff, depts, handlers):
    from yiwang.cases.services import case_dispatch

    case = report("WZDJ01")
    case_accept(actor=street_staff, case=case)
    case = case_dispatch(actor=street_staff, case=case, lead=depts["zj"], assists=[depts["cg"]])
    due = case.assignments.first().checkin_due
    from datetime import timedelta

    counts = deadline_tick(now=due + timedelta(minutes=1))
    assert counts["late_checkin"] == 2
    assert deadline_tick(now=due + timedelta(minutes=2))["late_checkin"] == 0
