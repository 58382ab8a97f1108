"""Each rate equals a hand-computed value on a small fixture."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from yiwang.cases import services as s
from yiwang.cases.models import Case
from yiwang.cases.rates import Where, all_rates, completion_rate
from yiwang.cases.states import Outcome

CST = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=CST)


@pytest.fixture
def fixture_cases(report, community_a_staff, worker_a, resident, street_b_staff):
    """Six cases in street A, one in street B (outside the scope measured):
    1 closed solved on time, satisfied, responded on time
    2 closed partly, late, basic-satisfied, responded late
    3 closed solved on time, unsatisfied → reopened → closed again (reopen 1), rated after
    4 still open (in progress), responded on time
    5 rejected invalid (excluded from completion)
    6 closed not ours, on time, no rating
    7 (street B) closed solved"""

    def run(case, outcome, note="", transferred_to=""):
        s.case_accept(actor=community_a_staff, case=case)
        s.case_start(actor=community_a_staff, case=case)
        s.case_reply(actor=community_a_staff, case=case, reply="答复")
        s.case_verify(actor=worker_a, case=case, ok=True)
        return s.case_close(
            actor=community_a_staff,
            case=case,
            outcome=outcome,
            note=note,
            transferred_to=transferred_to,
        )

    c = [report() for _ in range(6)]
    run(c[0], Outcome.SOLVED)
    s.case_rate(actor=resident, case=c[0], satisfaction="satisfied")
    run(c[1], Outcome.PARTLY, note="部分")
    s.case_rate(actor=resident, case=c[1], satisfaction="basic")
    run(c[2], Outcome.SOLVED)
    s.case_rate(actor=resident, case=c[2], satisfaction="unsatisfied", note="没弄好")
    s.case_start(actor=community_a_staff, case=c[2])
    s.case_reply(actor=community_a_staff, case=c[2], reply="再次处理")
    s.case_verify(actor=worker_a, case=c[2], ok=True)
    s.case_close(actor=community_a_staff, case=c[2], outcome=Outcome.SOLVED)
    s.case_rate(actor=resident, case=c[2], satisfaction="unsatisfied", note="还是不好")
    s.case_accept(actor=community_a_staff, case=c[3])
    s.case_start(actor=community_a_staff, case=c[3])
    s.case_reject(actor=community_a_staff, case=c[4], outcome=Outcome.INVALID, reason="无效")
    run(c[5], Outcome.NOT_OURS, note="供电", transferred_to="供电公司")
    b = report(i=2)
    s.case_accept(actor=street_b_staff, case=b)
    s.case_start(actor=street_b_staff, case=b)
    s.case_reply(actor=street_b_staff, case=b, reply="答复")
    s.case_verify(actor=street_b_staff, case=b, ok=True)
    s.case_close(actor=street_b_staff, case=b, outcome=Outcome.SOLVED)
    # Put the clock where the fixture says (test set-up, not product code).
    for i, case in enumerate(c):
        Case.objects.filter(id=case.id).update(
            reported_at=T0 + timedelta(hours=i),
            response_due=T0 + timedelta(hours=i + 2),
            resolve_due=T0 + timedelta(hours=i + 24),
            responded_at=T0 + timedelta(hours=i + (3 if i == 1 else 1)),
        )
    closed_after = {0: 10, 1: 30, 2: 20, 5: 5}
    for i, hours in closed_after.items():
        Case.objects.filter(id=c[i].id).update(closed_at=T0 + timedelta(hours=i + hours))
    Case.objects.filter(id=c[4].id).update(closed_at=T0 + timedelta(hours=5))
    Case.objects.filter(id=b.id).update(
        reported_at=T0, closed_at=T0 + timedelta(hours=1), response_due=T0 + timedelta(hours=2)
    )
    return c


def test_rates_by_hand(fixture_cases, tree):
    where = Where(street_id=tree.street_a.id)
    rates = all_rates(where, T0 - timedelta(days=1), T0 + timedelta(days=3))
    # Response: 6 reported; responded by the due time: all but case 2 → 5/6.
    assert rates["response_rate"] == round(5 / 6, 4)
    # On time: closed = 1, 2, 3, 6; case 2 closed 30 h after (due 24 h) → 3/4.
    assert rates["on_time_rate"] == 0.75
    # Completion: taken on = 6 − 1 invalid = 5; closed = 4 → 4/5.
    assert rates["completion_rate"] == 0.8
    # Solved: of the 4 closed, cases 1 and 3 → 2/4.
    assert rates["solved_rate"] == 0.5
    # Satisfaction: rated = 1 (satisfied), 2 (basic), 3 (unsatisfied) → 2/3.
    assert rates["satisfaction_rate"] == round(2 / 3, 4)
    # Average handling hours: (10 + 30 + 20 + 5) / 4.
    assert rates["average_handling_hours"] == 16.25
    # Reopened: case 3 → 1/4.
    assert rates["reopen_rate"] == 0.25


def test_rates_for_the_district_include_street_b(fixture_cases):
    value = completion_rate(Where(), T0 - timedelta(days=1), T0 + timedelta(days=3))
    assert value == round(5 / 6, 4)


def test_empty_period_has_no_rate(fixture_cases):
    start = T0 + timedelta(days=30)
    assert all(v is None for v in all_rates(Where(), start, start + timedelta(days=1)).values())


def test_rates_api(client, fixture_cases, tree, leader, worker_b, outsider):
    from tests.conftest import login

    login(client, leader)
    params = {
        "street_id": tree.street_a.id,
        "start": (T0 - timedelta(days=1)).isoformat(),
        "end": (T0 + timedelta(days=3)).isoformat(),
    }
    assert client.get("/api/v1/cases/rates", params).json()["completion_rate"] == 0.8
    bad = client.get("/api/v1/cases/rates", {**params, "start": params["end"]})
    assert bad.status_code == 400 and bad.json()["field"] == "start"
    login(client, outsider)
    assert client.get("/api/v1/cases/rates", params).status_code == 403
    login(client, worker_b)  # grid B1 may not see street A's figures
    assert client.get("/api/v1/cases/rates", params).status_code == 403
    own = {k: v for k, v in params.items() if k != "street_id"}
    assert client.get("/api/v1/cases/rates", {**own, "grid_id": tree.grid_b1.id}).status_code == 200
