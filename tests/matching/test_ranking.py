"""The ranking on a fixture whose best answers are known by hand (see ranking.py's table)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from yiwang.matching import services as s
from yiwang.matching.models import Provider
from yiwang.matching.ranking import rank, slot_fit, window_segments
from yiwang.registry.services import resident_create

from .conftest import next_weekday

MON = 0


def serve(admin, provider, resident, service, rating=None, weekday=MON):
    """One whole service through the services: post, offer, accept, complete, rate."""
    start = next_weekday(weekday, 9, weeks=2)
    demand = s.demand_post(
        actor=admin,
        service=service,
        resident=resident,
        window_start=start,
        window_end=start + timedelta(hours=3),
    )
    (offer,) = s.demand_offer(actor=admin, demand=demand, providers=[provider])
    s.offer_accept(actor=admin, offer=offer)
    s.demand_complete(actor=admin, demand=demand, note="ok")
    if rating:
        s.demand_rate(actor=admin, demand=demand, rating=rating)
    return demand


@pytest.fixture
def neighbour_a2(admin_user):
    return resident_create(actor=admin_user, name="赵大爷", address="人民路30号")


def test_ranking_orders_by_the_table(
    tree, admin_user, make_provider, post, haircut, meal, neighbour_a2
):
    mon = [[MON, 8 * 60, 12 * 60]]
    make_provider("同网格志愿者", home_grid=tree.grid_a1, slots=mon)
    rated = make_provider("好评服务队", areas=[("community", tree.community_a.id)], slots=mon)
    make_provider("社区志愿者", areas=[("community", tree.community_a.id)], slots=mon)
    building = tree.grid_a1.center_lat
    make_provider(
        "半径志愿者", areas=[], radius_m=2000, lat=building + 0.009, lng=tree.grid_a1.center_lng
    )
    busy = make_provider("满负荷志愿者", slots=mon, capacity=1)
    make_provider("周二志愿者", slots=[[1, 9 * 60, 12 * 60]])
    make_provider("别的街道", areas=[("street", tree.street_b.id)], slots=mon)
    make_provider("只做助餐", services=[meal], slots=mon)
    make_provider("未审核", slots=mon, verified=False)
    for _i in range(4):
        serve(admin_user, rated, neighbour_a2, haircut, rating=5)
    # The busy one holds an accepted demand of its own.
    other = post(actor=admin_user)
    (offer,) = s.demand_offer(actor=admin_user, demand=other, providers=[busy])
    s.offer_accept(actor=admin_user, offer=offer)

    demand = post()
    ranking = rank(demand)
    names = [c.name for c in ranking.candidates]
    assert names == [
        "同网格志愿者",
        "好评服务队",
        "社区志愿者",
        "半径志愿者",
        "满负荷志愿者",
        "周二志愿者",
    ]
    by = {c.name: c for c in ranking.candidates}
    assert [c.eligible for c in ranking.candidates] == [True] * 4 + [False] * 2
    assert ranking.considered == 6 and ranking.eligible == 4
    # Hand-computed scores (no points for these providers but the radius one's).
    assert by["同网格志愿者"].score == pytest.approx(30 + 25 + 10)
    assert by["社区志愿者"].score == pytest.approx(20 + 25 + 10)
    mean = (4 * 5 + 2 * 4.0) / 6
    assert by["好评服务队"].score == pytest.approx(20 + 25 + 10 + (mean - 4) * 10 + 0.4)
    # The demand sits at its building, 0.001° off the centre: about 0.9 km from the provider.
    assert 0.85 < by["半径志愿者"].distance_m / 1000 < 0.95
    assert by["满负荷志愿者"].flags == {"full"}
    assert by["周二志愿者"].flags == {"off_slot"}
    assert "同一网格" in by["同网格志愿者"].reasons
    assert any("评分 5.0 (4 次)" in r for r in by["好评服务队"].reasons)
    assert any("已满负荷 (1/1)" in p for p in by["满负荷志愿者"].problems)
    assert ranking.reason == ""


def test_past_work_with_the_person_lifts_a_provider(
    tree, admin_user, make_provider, post, haircut, elder_a
):
    mon = [[MON, 8 * 60, 12 * 60]]
    first = make_provider("甲", slots=mon)
    second = make_provider("乙", slots=mon)
    assert [c.name for c in rank(post()).candidates][:2] == ["甲", "乙"]
    serve(admin_user, second, elder_a, haircut)
    ranking = rank(post())
    assert [c.name for c in ranking.candidates][:2] == ["乙", "甲"]
    assert any("曾为其服务 1 次" in r for r in ranking.candidates[0].reasons)
    assert first.id in {c.provider_id for c in ranking.candidates}


def test_absence_makes_a_provider_ineligible(tree, admin_user, make_provider, post, window):
    p = make_provider("出差的志愿者")
    s.provider_absence_add(
        actor=admin_user,
        provider=p,
        starts_at=window[0] - timedelta(days=1),
        ends_at=window[1] + timedelta(days=1),
    )
    ranking = rank(post())
    assert ranking.candidates[0].flags == {"away"}
    assert "暂停服务" in ranking.reason or "1 个暂停服务" in ranking.reason


def test_a_demand_outside_every_area_says_why(
    tree, admin_user, make_provider, elder_b, haircut, window
):
    make_provider("只服务A网格", slots=[[MON, 8 * 60, 12 * 60]])
    demand = s.demand_post(
        actor=admin_user,
        service=haircut,
        resident=elder_b,
        window_start=window[0],
        window_end=window[1],
    )
    ranking = rank(demand)
    assert ranking.candidates == []
    assert "都不服务本网格" in ranking.reason


def test_no_provider_offers_the_service(tree, post, meal):
    ranking = rank(post(service=meal))
    assert ranking.candidates == [] and "暂无提供“助餐”" in ranking.reason


def test_window_segments_cross_midnight_and_slot_fit():
    start = next_weekday(MON, 22)
    segs = window_segments(start, start + timedelta(hours=4))
    assert segs == [(0, 22 * 60, 1440), (1, 0, 120)]
    assert slot_fit([[1, 0, 8 * 60]], segs, 60) == (1, 0, 120)
    assert slot_fit([[0, 23 * 60 + 30, 1440]], segs, 60) is None


def test_unverified_and_suspended_are_not_ranked(tree, admin_user, make_provider, post):
    p = make_provider("志愿者")
    s.provider_verify(actor=admin_user, provider=p, verification=Provider.Verification.SUSPENDED)
    assert rank(post()).candidates == []
