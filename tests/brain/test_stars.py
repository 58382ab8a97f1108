"""Star ratings equal a hand-computed rubric; ranks tie; publication decides who sees them."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tests.brain.conftest import LIFE, step
from yiwang.brain import selectors as sel
from yiwang.brain import services
from yiwang.brain.models import StarRating
from yiwang.brain.rollup import rollup_rebuild
from yiwang.cases.models import Case

CST = ZoneInfo("Asia/Shanghai")
RUBRIC = [
    {"indicator": "completion_rate", "weight": 2, "thresholds": [0.5, 0.6, 0.7, 0.8]},
    {"indicator": "satisfaction_rate", "weight": 1, "thresholds": [0.5, 0.6, 0.9, 1.0]},
    {"indicator": "repeat_complaints", "weight": 1, "thresholds": [3, 2, 1, 0]},
]


@pytest.fixture
def month():
    return (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)


@pytest.fixture
def rated_month(month, report, admin_user, resident, leader):
    """Grid A1: 4 cases, 3 closed (2 satisfied, 1 basic), 3 at one address → completion 0.75
    (4 points), satisfaction 1.0 (5), 2 repeats (3): (2·4 + 5 + 3) / 4 = 4.0 → 4 stars.
    Grid A2: 1 closed, unsatisfied → completion 1.0 (5), satisfaction 0 (1), repeats 0 (5):
    (10 + 1 + 5) / 4 = 4.0 → 4 stars. Grid B1: 2 cases, 1 closed, unrated → completion 0.5 (2),
    satisfaction none (left out), repeats 0 (5): (4 + 5) / 3 = 3.0 → 3 stars."""
    at = datetime(month.year, month.month, 10, 9, tzinfo=CST)

    def make(i, steps, sat="satisfied", address="铁山路22号"):
        case = report(i=i)
        for name in steps:
            step(case, name, desk=admin_user, rater=resident, satisfaction=sat)
        Case.objects.filter(id=case.id).update(
            reported_at=at, address=address, closed_at=at + timedelta(hours=5)
            if case.state != "reported" and "close" in steps else None,
        )  # fmt: skip
        return case

    make(0, LIFE)
    make(0, LIFE)
    make(0, LIFE, sat="basic")
    make(0, [], address="铁山路22甲号")
    a2 = make(1, LIFE[:5], address="人民路30号")
    Case.objects.filter(id=a2.id).update(satisfaction="unsatisfied")
    make(2, LIFE[:5], address="伊春路168号")
    make(2, [], address="伊春路168号1号楼")
    rollup_rebuild()
    services.rubric_save(actor=leader, name="测试细则", items=RUBRIC)
    assert services.stars_evaluate(actor=leader, month=month) == 3
    return month


def test_stars_equal_hand_computed_rubric(rated_month, tree):
    got = {r.grid_id: r for r in StarRating.objects.filter(month=rated_month)}
    a1, a2, b1 = got[tree.grid_a1.id], got[tree.grid_a2.id], got[tree.grid_b1.id]
    assert (a1.score, a1.stars) == (4.0, 4)
    assert (a2.score, a2.stars) == (4.0, 4)
    assert (b1.score, b1.stars) == (3.0, 3)
    assert a1.breakdown["completion_rate"] == {"value": 0.75, "points": 4, "weight": 2.0}
    assert a1.breakdown["satisfaction_rate"]["points"] == 5
    assert a1.breakdown["repeat_complaints"] == {"value": 2, "points": 3, "weight": 1.0}
    assert b1.breakdown["satisfaction_rate"] == {"value": None, "points": None, "weight": 1.0}
    assert a2.breakdown["satisfaction_rate"]["points"] == 1
    assert [a1.rank_district, a2.rank_district, b1.rank_district] == [1, 1, 3]
    assert [a1.rank_street, a2.rank_street, b1.rank_street] == [1, 1, 1]
    assert [a1.rank_community, b1.rank_community] == [1, 1]
    assert tree.grid_b2.id not in got  # no data, no rating


def test_published_list_is_scoped_and_history_kept(rated_month, tree, leader, street_staff):
    node_a = sel.node_access(actor=street_staff, level="street", node_id=tree.street_a.id)
    assert sel.star_list(actor=street_staff, node=node_a, month=rated_month)["ratings"] == []
    with pytest.raises(PermissionDenied):
        services.stars_publish(actor=street_staff, month=rated_month)
    services.stars_publish(actor=leader, month=rated_month)
    rows = sel.star_list(actor=street_staff, node=node_a, month=rated_month)["ratings"]
    assert {r["grid_id"] for r in rows} == {tree.grid_a1.id, tree.grid_a2.id}
    with pytest.raises(ValidationError):
        services.stars_evaluate(actor=leader, month=rated_month)  # published is final
    grid = sel.node_access(actor=street_staff, level="grid", node_id=tree.grid_a1.id)
    assert [h["stars"] for h in sel.star_history(actor=street_staff, node=grid)] == [4]


@pytest.mark.parametrize(
    "items, field",
    [
        ([], "items"),
        ([{"indicator": "nope", "weight": 1, "thresholds": [1, 2, 3, 4]}], "items.0.indicator"),
        ([{"indicator": "completion_rate", "weight": 0, "thresholds": [1, 2, 3, 4]}],
         "items.0.weight"),
        ([{"indicator": "completion_rate", "weight": 1, "thresholds": [4, 3, 2, 1]}],
         "items.0.thresholds"),
        ([{"indicator": "reopen_rate", "weight": 1, "thresholds": [0.01, 0.02, 0.03, 0.04]}],
         "items.0.thresholds"),
        ([{"indicator": "completion_rate", "weight": 1, "thresholds": [1, 2]}],
         "items.0.thresholds"),
    ],
)  # fmt: skip
def test_rubric_rejects_bad_items(leader, items, field):
    with pytest.raises(ValidationError) as exc:
        services.rubric_save(actor=leader, name="坏细则", items=items)
    assert field in exc.value.message_dict


def test_only_district_edits_rubric_and_evaluates(street_staff, month):
    with pytest.raises(PermissionDenied):
        services.rubric_save(actor=street_staff, name="x", items=RUBRIC)
    with pytest.raises(PermissionDenied):
        services.stars_evaluate(actor=street_staff, month=month)
