"""Trend buckets and month/day splitting add up to the same figures as one sum."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from yiwang.brain import selectors as sel
from yiwang.brain.rollup import rollup_rebuild
from yiwang.cases.models import Case

CST = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def spread(tree, report):
    """One case every 9 days over ~200 days, alternating grids."""
    base = datetime(2026, 1, 3, 10, tzinfo=CST)
    for k in range(23):
        case = report(i=k % 4)
        Case.objects.filter(id=case.id).update(reported_at=base + timedelta(days=9 * k))
    rollup_rebuild()
    return base.date()


@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_trend_adds_up_to_the_summary(spread, tree, grain):
    node = sel.Node("district", tree.district.id, "区")
    first, last = spread + timedelta(days=5), spread + timedelta(days=170)
    rows = sel.trend(node, first, last, grain)
    assert sum(r["reported"] for r in rows) == sel.summary(node, first, last)["reported"] == 18
    assert rows[0]["period"] == first.isoformat()
    if grain == "month":
        assert [r["period"][5:7] for r in rows] == ["01", "02", "03", "04", "05", "06"]
        assert rows[1]["period"].endswith("-01")


def test_parts_cover_each_day_once():
    first, last = datetime(2025, 1, 20).date(), datetime(2025, 5, 3).date()
    parts = sel._parts(first, last)
    assert parts[0] == (sel.MonthlyFigure, {"month__gte": first.replace(month=2, day=1),
                                            "month__lt": first.replace(month=5, day=1)})  # fmt: skip
    assert {p[0] for p in parts[1:]} == {sel.DailyFigure}
    assert sel._parts(first, first.replace(day=28)) == [
        (sel.DailyFigure, {"day__gte": first, "day__lte": first.replace(day=28)})
    ]


def test_department_figures_equal_the_desk_rates(tree, report, depts, admin_user, resident):
    from tests.brain.conftest import step
    from yiwang.brain.rollup import day_bounds
    from yiwang.cases import services as s
    from yiwang.cases.rates import Where, all_rates

    cases = [report(i=k % 4) for k in range(6)]
    for k, case in enumerate(cases[:5]):
        step(case, "accept", desk=admin_user, rater=resident)
        s.case_dispatch(
            actor=admin_user, case=case, lead=depts["cg"] if k % 2 else depts["zj"],
            assists=[depts["sthj"]] if k in (1, 2) else [],
        )  # fmt: skip
    from django.utils import timezone

    from yiwang.brain.rollup import rollup_tick

    rollup_tick()  # the worker's tick: the department roll-ups follow the dispatches
    today = timezone.localdate()
    start, end = day_bounds(today, today)
    nodes = [
        (sel.Node("district", tree.district.id, "区"), {}),
        (sel.Node("street", tree.street_a.id, "A"), {"street_id": tree.street_a.id}),
        (sel.Node("community", tree.community_a.id, "a"), {"community_id": tree.community_a.id}),
        (sel.Node("grid", tree.grid_a1.id, "A1"), {"grid_id": tree.grid_a1.id}),
    ]
    for node, scope in nodes:
        got = {r["id"]: r for r in sel.by_department(node, today, today)}
        for dept in depts.values():
            want = all_rates(Where(department_id=dept.id, **scope), start, end)
            if want["response_rate"] is None:
                assert dept.id not in got, (node.level, dept.code)
                continue
            for name, value in want.items():
                assert got[dept.id][name] == value, (node.level, dept.code, name)
    got = {r["id"]: r for r in sel.by_department(nodes[0][0], today, today)}
    assert set(got) == {d.id for d in depts.values()}
    assert got[depts["sthj"].id]["reported"] == 2


def test_live_lists_open_overdue_and_top_cases_of_the_node(tree, report, admin_user):
    from yiwang.cases.states import Mode

    late, top, closed_late, elsewhere = (report(i=0), report(i=1), report(i=0), report(i=2))
    Case.objects.filter(id__in=[late.id, closed_late.id, elsewhere.id]).update(is_overdue=True)
    Case.objects.filter(id=closed_late.id).update(state="closed")
    Case.objects.filter(id=top.id).update(mode=Mode.TOP)
    node = sel.Node("street", tree.street_a.id, "A")
    live = sel.live_cases(node)
    assert [c["id"] for c in live["overdue"]] == [late.id]
    assert [c["id"] for c in live["top"]] == [top.id]
    district = sel.live_cases(sel.Node("district", tree.district.id, ""))
    assert {c["id"] for c in district["overdue"]} == {late.id, elsewhere.id}
