"""Roll-ups equal a direct computation from the cases, including cases that change after
they were rolled up (the event hook + tick path) and reopened cases."""

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.brain.conftest import LIFE, backdate, step
from yiwang.brain import selectors as sel
from yiwang.brain.models import DailyFigure, DirtyKey, MonthlyFigure
from yiwang.brain.rollup import day_bounds, rollup_rebuild, rollup_tick
from yiwang.cases import services as s
from yiwang.cases.models import Case
from yiwang.cases.rates import Where, all_rates
from yiwang.cases.states import Outcome
from yiwang.org.models import Department

CST = ZoneInfo("Asia/Shanghai")
CODES = ["SRHJ04", "SRHJ01", "WZDJ01"]


def nodes(tree):
    return [
        sel.Node("district", tree.district.id, "区"),
        sel.Node("street", tree.street_a.id, "A", street_id=tree.street_a.id),
        sel.Node("community", tree.community_b.id, "B", street_id=tree.street_b.id),
        sel.Node("grid", tree.grid_a1.id, "A1", street_id=tree.street_a.id),
    ]


def where(node):
    return {
        "district": Where(),
        "street": Where(street_id=node.id),
        "community": Where(community_id=node.id),
        "grid": Where(grid_id=node.id),
    }[node.level]


def assert_equal_to_direct(tree, first, last):
    start, end = day_bounds(first, last)
    for node in nodes(tree):
        got = sel.summary(node, first, last)
        want = all_rates(where(node), start, end)
        for name, value in want.items():
            assert got[name] == value, (node.level, name, first, last)
        reported = where(node).filter(
            Case.objects.filter(reported_at__gte=start, reported_at__lt=end)
        )
        assert got["reported"] == reported.count()
        assert got["overdue"] == reported.filter(is_overdue=True).count()
        assert got["top"] == reported.filter(mode="top").count()
        closed = where(node).filter(
            Case.objects.filter(state="closed", closed_at__gte=start, closed_at__lt=end)
        )
        assert got["closed"] == closed.count()
        assert got["unsatisfied"] == closed.filter(satisfaction="unsatisfied").count()
        assert_departments_equal_direct(node, first, last)
        assert_places_equal_direct(node, first, last)


def assert_departments_equal_direct(node, first, last):
    start, end = day_bounds(first, last)
    got = {r["id"]: r for r in sel.by_department(node, first, last)}
    for dept_id in Department.objects.values_list("id", flat=True):
        scope = replace(where(node), department_id=dept_id)
        reported = scope.filter(Case.objects.filter(reported_at__gte=start, reported_at__lt=end))
        closed = scope.filter(
            Case.objects.filter(state="closed", closed_at__gte=start, closed_at__lt=end)
        )
        if not reported.exists() and not closed.exists():
            assert dept_id not in got, (node.level, dept_id)
            continue
        row = got[dept_id]
        for name, value in all_rates(scope, start, end).items():
            assert row[name] == value, (node.level, dept_id, name, first, last)
        assert row["reported"] == reported.count()
        assert row["closed"] == closed.count()
        assert row["overdue"] == reported.filter(is_overdue=True).count()


def assert_places_equal_direct(node, first, last):
    start, end = day_bounds(first, last)
    for at_least, limit in [(1, 100), (2, 100), (2, 1), (1, 2)]:
        rows = (
            where(node)
            .filter(Case.objects.filter(reported_at__gte=start, reported_at__lt=end))
            .exclude(address="")
            .values("address", "category_id", "grid_id")
            .annotate(n=Count("id"))
            .filter(n__gte=at_least)
        )
        want = sorted((-r["n"], r["address"], r["category_id"], r["grid_id"]) for r in rows)[:limit]
        for batch in (1, 100):
            got = sel.recurring_places(
                node, first, last, at_least=at_least, limit=limit, batch=batch
            )
            assert [(-r["count"], r["address"]) for r in got] == [w[:2] for w in want], (
                node.level, first, last, at_least, limit,
            )  # fmt: skip


# One generated case: where, what, when (days back, hour), how far its life went before the
# roll-up, and what happens to it afterwards.
ADDRESSES = ["", "铁山路22号", "人民路10号"]
DISPATCH = ["none", "cg", "zj", "cg+sthj"]

case_spec = st.tuples(
    st.integers(0, 3),  # grid cell
    st.sampled_from(CODES),
    st.sampled_from(ADDRESSES),
    st.sampled_from(DISPATCH),  # to whom it is dispatched once accepted
    st.integers(1, 75),  # days back
    st.integers(0, 23),  # hour
    st.integers(0, len(LIFE)),  # steps before the roll-up
    st.sampled_from(["none", "more", "reject", "reopen"]),
    st.sampled_from(["satisfied", "basic", "unsatisfied"]),
    st.sampled_from([Outcome.SOLVED, Outcome.PARTLY]),
    st.floats(1, 90),  # hours to close
)


@pytest.mark.django_db
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=st.lists(case_spec, min_size=1, max_size=8))
def test_rollups_equal_direct_computation(
    specs, tree, report, depts, handlers, admin_user, resident
):
    def live(case, names, dispatch, sat, outcome):
        for name in names:
            step(case, name, desk=admin_user, rater=resident, outcome=outcome, satisfaction=sat)
            if name == "accept" and dispatch != "none":
                lead, *assists = dispatch.split("+")
                case.refresh_from_db()
                s.case_dispatch(
                    actor=admin_user, case=case, lead=depts[lead],
                    assists=[depts[a] for a in assists],
                )  # fmt: skip
                for a in assists:  # a co-handler's part is in before the reply
                    s.case_part_done(actor=handlers[a], case=case, report="已完成")

    with transaction.atomic():
        now = timezone.now()
        cases = []
        for (
            cell,
            code,
            address,
            dispatch,
            back,
            hour,
            before,
            after,
            sat,
            outcome,
            close_h,
        ) in specs:
            case = report(code, i=cell, address=address)
            live(case, LIFE[:before], dispatch, sat, outcome)
            at = datetime.combine(
                (now - timedelta(days=back)).astimezone(CST).date(),
                datetime.min.time(),
                tzinfo=CST,
            ) + timedelta(hours=hour)
            backdate(case, at, close_after_hours=close_h)
            cases.append((case, dispatch, before, after, sat, outcome))
        rollup_rebuild()
        assert not DirtyKey.objects.exists()
        # Changes after the roll-up go through the services: the hook marks, the tick recounts.
        for case, dispatch, before, after, sat, outcome in cases:
            case.refresh_from_db()
            if after == "more":
                live(case, LIFE[before:], dispatch, sat, outcome)
            elif after == "reject" and case.state in ("reported", "accepted"):
                step(case, "reject", desk=admin_user, rater=resident)
            elif after == "reopen" and case.state == "closed" and case.reopen_count == 0:
                step(case, "reopen", desk=admin_user, rater=resident)
        rollup_tick()
        today = timezone.localdate()
        for first, last in [
            (today - timedelta(days=80), today),
            (today - timedelta(days=40), today - timedelta(days=3)),
            (today, today),
            (today.replace(day=1) - timedelta(days=45), today.replace(day=1)),
        ]:
            assert_equal_to_direct(tree, first, last)
        # The monthly rows are the sums of the daily ones.
        for m in MonthlyFigure.objects.all():
            days = DailyFigure.objects.filter(
                grid_id=m.grid_id, category_id=m.category_id,
                day__gte=m.month, day__lt=(m.month + timedelta(days=32)).replace(day=1),
            )  # fmt: skip
            assert m.reported == sum(d.reported for d in days)
            assert m.handling_us == sum(d.handling_us for d in days)
        transaction.set_rollback(True)


def test_hook_marks_reported_closed_and_previously_closed_days(tree, report, admin_user, resident):
    case = report()
    assert DirtyKey.objects.filter(grid_id=case.grid_id, category_id=case.category_id).exists()
    for name in LIFE[:5]:
        step(case, name, desk=admin_user, rater=resident)
    long_ago = timezone.now() - timedelta(days=20)
    Case.objects.filter(id=case.id).update(reported_at=long_ago, closed_at=long_ago)
    rollup_rebuild()
    case.refresh_from_db()
    step(case, "reopen", desk=admin_user, rater=resident)
    days = set(DirtyKey.objects.values_list("day", flat=True))
    assert long_ago.astimezone(CST).date() in days
    rollup_tick()
    first = long_ago.astimezone(CST).date()
    node = sel.Node("grid", case.grid_id, "")
    assert sel.summary(node, first, first)["closed"] == 0
    assert sel.summary(node, first, first)["reported"] == 1
    assert not DirtyKey.objects.exists()


def test_rebuild_of_nothing_and_empty_keys_leave_no_rows(tree, report, admin_user):
    assert rollup_rebuild() == 0
    case = report()
    rollup_tick()
    assert DailyFigure.objects.count() == 1
    Case.objects.filter(id=case.id).delete()
    DirtyKey.objects.create(
        grid_id=case.grid_id, category_id=case.category_id, day=timezone.localdate()
    )
    rollup_tick()
    assert not DailyFigure.objects.exists() and not MonthlyFigure.objects.exists()


def test_coarse_month_tables_are_sums_of_the_monthly_rows(tree, report, admin_user, resident):
    from django.db.models import Sum

    from yiwang.brain.rollup import COARSE, rollup_rebuild_coarse

    cases = [report(code, i=i) for i in range(4) for code in CODES[:2]]
    for name in LIFE:
        step(cases[0], name, desk=admin_user, rater=resident)
    rollup_tick()  # the incremental path keeps them

    def snapshot():
        return {
            model.__name__: sorted(
                tuple(r) for r in model.objects.values_list(*keys, "reported", "closed")
            )
            for model, (_source, keys) in COARSE.items()
        }

    incremental = snapshot()
    rollup_rebuild_coarse()
    assert snapshot() == incremental
    total = MonthlyFigure.objects.aggregate(n=Sum("reported"))["n"]
    assert total == 8
    for rows in incremental.values():
        assert sum(r[-2] for r in rows) == total
