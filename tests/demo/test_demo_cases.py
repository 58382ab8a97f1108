"""The demo's cases: a plausible year, consistent with the states and the numbering."""

import hashlib
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.db.models import Count, F, Q

from yiwang.cases.deadlines import deadline_for
from yiwang.cases.models import Assignment, Case, CaseEvent, Category, DailySequence
from yiwang.cases.rates import Where, completion_rate, satisfaction_rate, solved_rate
from yiwang.cases.services import case_report
from yiwang.cases.states import CLOSED_STATES, OPEN_STATES, Action, Channel, State
from yiwang.demo.cases import build_cases
from yiwang.demo.org import build_tree
from yiwang.org.models import Grid

END = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def demo(db):
    built = build_tree(scale="small", seed=11)
    n = build_cases(built, scale="small", seed=11, end=END)
    return built, n


def digest() -> str:
    h = hashlib.sha256()
    for row in Case.objects.order_by("number").values_list(
        "number", "title", "state", "reported_at", "closed_at", "grid__code", "outcome",
        "satisfaction", "category__code", "resolve_due",
    ):  # fmt: skip
        h.update(repr(row).encode())
    h.update(repr(CaseEvent.objects.count()).encode())
    return h.hexdigest()


def test_counts_and_mix(demo):
    _built, n = demo
    assert 2500 <= n <= 5000
    assert Case.objects.count() == n
    cats = Counter(Case.objects.values_list("category__code", flat=True))
    top5 = {c for c, _ in cats.most_common(5)}
    assert top5 >= {"SRHJ01", "SRHJ02", "SRHJ04"}
    channels = Counter(Case.objects.values_list("channel", flat=True))
    assert 0.30 <= channels[Channel.HOTLINE] / n <= 0.40
    assert 0.25 <= channels[Channel.GRID_WORKER] / n <= 0.35
    assert 0.15 <= channels[Channel.RESIDENT] / n <= 0.25
    # Summer is busier than the Spring Festival month.
    july = Case.objects.filter(reported_at__month=7).count()
    february = Case.objects.filter(reported_at__month=2).count()
    assert july > february * 1.2
    states = Counter(Case.objects.values_list("state", flat=True))
    for state in (State.ACCEPTED, State.DISPATCHED, State.IN_PROGRESS, State.REPLIED):
        assert states[state] > 0, (state, states)
    assert Case.objects.filter(is_overdue=True).exists()
    assert Case.objects.filter(reopen_count__gt=0).exists()
    assert Category.objects.get(code="SRHJ01").department.code == "CG"


def test_every_case_in_one_grid_of_its_tree(demo):
    bad = Case.objects.exclude(community_id=F("grid__community_id")) | Case.objects.exclude(
        street_id=F("grid__street_id")
    )
    assert not bad.exists()
    assert (
        not Case.objects.filter(building__isnull=False)
        .exclude(building__grid_id=F("grid_id"))
        .exists()
    )
    assert Grid.objects.annotate(n=Count("cases")).filter(n=0).count() == 0


def test_events_and_times_consistent_with_states(demo):
    closed = Case.objects.filter(state__in=CLOSED_STATES)
    assert not closed.filter(closed_at__isnull=True).exists()
    assert not closed.exclude(
        Q(events__action=Action.CLOSE) | Q(events__action=Action.REJECT)
    ).exists()
    assert not Case.objects.filter(state__in=OPEN_STATES, closed_at__isnull=False).exists()
    assert not Case.objects.filter(closed_at__lt=F("replied_at")).exists()
    assert not Case.objects.filter(replied_at__lt=F("reported_at")).exists()
    assert not Case.objects.filter(responded_at__lt=F("reported_at")).exists()
    assert not Case.objects.filter(state=State.CLOSED, replied_at__isnull=True).exists()
    assert not Case.objects.filter(closed_at__gt=END).exists()
    assert not CaseEvent.objects.filter(created_at__gt=END).exists()
    no_report = Case.objects.exclude(events__action=Action.REPORT)
    assert not no_report.exists()
    # The last event that moves a case ends in its state.
    for case in Case.objects.order_by("?")[:300]:
        moves = [e for e in case.events.all() if e.to_state]
        assert moves[-1].to_state == case.state, case.number
        assert [e.created_at for e in case.events.all()] == sorted(
            e.created_at for e in case.events.all()
        )
        if case.state == State.DISPATCHED:
            assert case.assignments.filter(role=Assignment.Role.LEAD).exists()
    # Deadlines are the product's own, on its working calendar.
    for case in Case.objects.filter(reopen_count=0).select_related("category")[:200]:
        cat = case.category
        assert case.response_due == deadline_for(
            case.reported_at, cat.response_hours, cat.working_hours
        )


def test_numbers_unique_and_sequence_continues(demo):
    numbers = list(Case.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers))
    for seq in DailySequence.objects.all():
        day = seq.day.strftime("%Y%m%d")
        assert Case.objects.filter(number__startswith=f"SB{day}-").count() == seq.last


def test_rates_are_plausible(demo):
    start = END - timedelta(days=365)
    rate = completion_rate(Where(), start, END)
    assert 0.97 <= rate <= 0.995, rate
    assert solved_rate(Where(), start, END) >= 0.85
    assert satisfaction_rate(Where(), start, END) >= 0.9
    rejected = Case.objects.filter(state=State.REJECTED).count() / Case.objects.count()
    assert 0.01 <= rejected <= 0.03


def test_new_report_after_the_demo_does_not_collide(db):
    built = build_tree(scale="small", seed=3)
    build_cases(built, scale="small", seed=3)
    grid = Grid.objects.order_by("id").first()
    case = case_report(
        actor=None,
        channel=Channel.HOTLINE,
        category=Category.objects.get(code="SRHJ04"),
        title="铁山路22号甲小区后院卫生脏乱差",
        lat=grid.center_lat,
        lng=grid.center_lng,
    )
    assert Case.objects.filter(number=case.number).count() == 1


def test_deterministic(db):
    with transaction.atomic():
        built = build_tree(scale="small", seed=5)
        build_cases(built, scale="small", seed=5, end=END)
        first = digest()
        transaction.set_rollback(True)
    with transaction.atomic():
        built = build_tree(scale="small", seed=5)
        build_cases(built, scale="small", seed=5, end=END)
        assert digest() == first
        transaction.set_rollback(True)
