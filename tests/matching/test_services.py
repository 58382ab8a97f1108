"""Demands through their life: offers, first acceptance wins, moving on when nobody answers,
completion with hours credited, ratings; and the bad input the issue names."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from yiwang.matching import selectors as sel
from yiwang.matching import services as s
from yiwang.matching.errors import MatchConflict
from yiwang.matching.models import Demand, Offer, Provider, ServiceRecord
from yiwang.registry.models import AccessLog

MON = [[0, 8 * 60, 12 * 60]]


def test_first_acceptance_wins_and_the_others_are_told(post, make_provider, worker_a):
    a = make_provider("甲", slots=MON, user=True)
    b = make_provider("乙", slots=MON, user=True)
    demand = post()
    offer_a, offer_b = s.demand_offer(actor=worker_a, demand=demand, providers=[a, b])
    assert Demand.objects.get(id=demand.id).status == Demand.Status.OFFERED
    s.offer_accept(actor=a.user, offer=offer_a)
    with pytest.raises(MatchConflict, match="已由其他服务方接单"):
        s.offer_accept(actor=b.user, offer=offer_b)
    demand.refresh_from_db()
    assert demand.status == Demand.Status.MATCHED and demand.provider_id == a.id
    assert Offer.objects.get(id=offer_b.id).status == Offer.Status.TAKEN
    assert Offer.objects.filter(demand=demand, status=Offer.Status.ACCEPTED).count() == 1
    assert Provider.objects.get(id=a.id).active_count == 1
    assert Provider.objects.get(id=b.id).active_count == 0


def test_a_provider_cannot_answer_someone_elses_offer(post, make_provider, worker_a):
    a = make_provider("甲", slots=MON, user=True)
    b = make_provider("乙", slots=MON, user=True)
    (offer,) = s.demand_offer(actor=worker_a, demand=post(), providers=[a])
    with pytest.raises(PermissionDenied):
        s.offer_accept(actor=b.user, offer=offer)


def test_capacity_is_respected(post, make_provider, worker_a, window):
    p = make_provider("甲", slots=MON, capacity=1, user=True)
    first, second = post(), post()
    (o1,) = s.demand_offer(actor=worker_a, demand=first, providers=[p])
    (o2,) = s.demand_offer(actor=worker_a, demand=second, providers=[p])
    s.offer_accept(actor=p.user, offer=o1)
    with pytest.raises(MatchConflict, match="同时承接上限"):
        s.offer_accept(actor=p.user, offer=o2)
    assert Demand.objects.get(id=second.id).status == Demand.Status.OFFERED


def test_decline_moves_on_to_the_next_best(post, make_provider, worker_a):
    best = make_provider("最佳", slots=MON, user=True)
    make_provider("次佳", slots=MON)
    demand = post()
    (offer,) = s.demand_offer(actor=worker_a, demand=demand, providers=[best])
    s.offer_decline(actor=best.user, offer=offer, reason="那天有事")
    offers = list(Offer.objects.filter(demand=demand).order_by("id"))
    assert [o.status for o in offers] == [Offer.Status.DECLINED, Offer.Status.PENDING]
    assert offers[1].provider.name == "次佳" and offers[1].offered_by is None
    assert Demand.objects.get(id=demand.id).status == Demand.Status.OFFERED


def test_expiry_moves_on_then_back_to_unmatched_with_a_reason(post, make_provider, worker_a):
    a = make_provider("甲", slots=MON)
    b = make_provider("乙", slots=MON)
    demand = post()
    s.demand_offer(actor=worker_a, demand=demand, providers=[a], minutes=30)
    later = timezone.now() + timedelta(minutes=31)
    assert s.offers_expire(now=later) == 1
    pending = Offer.objects.get(demand=demand, status=Offer.Status.PENDING)
    assert pending.provider_id == b.id
    assert Offer.objects.get(demand=demand, provider=a).status == Offer.Status.EXPIRED
    much_later = later + timedelta(hours=5)
    assert s.offers_expire(now=much_later) == 1
    demand.refresh_from_db()
    assert demand.status == Demand.Status.OPEN
    assert demand.unmatched_reason  # says why nobody else could be offered it
    # An expired offer cannot be accepted any more.
    with pytest.raises(MatchConflict):
        s.offer_accept(actor=worker_a, offer=pending, now=much_later)


def test_completion_credits_hours_and_counts(post, make_provider, worker_a, elder_a):
    p = make_provider("甲", slots=MON, user=True)
    for hours in ("1.5", ""):
        demand = post()
        (offer,) = s.demand_offer(actor=worker_a, demand=demand, providers=[p])
        s.offer_accept(actor=p.user, offer=offer)
        s.demand_complete(actor=p.user, demand=demand, note="理发完成", hours=hours)
    p.refresh_from_db()
    assert p.completed_count == 2 and p.active_count == 0
    assert p.hours_total == Decimal("2.5")  # 1.5 given + the service's default 1.0
    records = ServiceRecord.objects.filter(kind=ServiceRecord.Kind.SERVICE)
    assert records.count() == 2
    assert {r.resident_id for r in records} == {elder_a.id}
    rows = sel.service_record_summary(
        actor=worker_a,
        by="provider",
        start=timezone.localdate() - timedelta(days=1),
        end=timezone.localdate() + timedelta(days=1),
    )
    assert rows == [
        {"id": p.id, "name": "甲", "records": 2, "people": 1, "families": 0, "hours": 2.5}
    ]


def test_rating_scale_and_replacement(post, make_provider, worker_a):
    p = make_provider("甲", slots=MON, user=True)
    demand = post()
    (offer,) = s.demand_offer(actor=worker_a, demand=demand, providers=[p])
    with pytest.raises(MatchConflict, match="完成后"):
        s.offer_accept(actor=p.user, offer=offer) and s.demand_rate(
            actor=worker_a, demand=demand, rating=5
        )
    s.demand_complete(actor=p.user, demand=demand)
    for bad in (0, 6, "五", None):
        with pytest.raises(ValidationError) as exc:
            s.demand_rate(actor=worker_a, demand=demand, rating=bad)
        assert "rating" in exc.value.message_dict
    s.demand_rate(actor=worker_a, demand=demand, rating=3)
    s.demand_rate(actor=worker_a, demand=demand, rating=5)
    p.refresh_from_db()
    assert (p.rating_sum, p.rating_count) == (5, 1)


def test_cancel_releases_the_provider(post, make_provider, worker_a):
    p = make_provider("甲", slots=MON, user=True)
    demand = post()
    (offer,) = s.demand_offer(actor=worker_a, demand=demand, providers=[p])
    s.offer_accept(actor=p.user, offer=offer)
    with pytest.raises(ValidationError):
        s.demand_cancel(actor=worker_a, demand=demand, reason=" ")
    s.demand_cancel(actor=worker_a, demand=demand, reason="老人住院")
    p.refresh_from_db()
    assert p.active_count == 0
    with pytest.raises(MatchConflict):
        s.demand_offer(actor=worker_a, demand=demand, providers=[p])


@pytest.mark.parametrize(
    "change, field",
    [
        ({"window_end": "reversed"}, "window_end"),
        ({"window_end": "past"}, "window_end"),
        ({"window_end": "long"}, "window_end"),
        ({"resident": None}, "resident"),
        ({"urgency": "panic"}, "urgency"),
        ({"service": None}, "service"),
    ],
)
def test_bad_demands_are_refused_naming_the_field(post, window, change, field):
    kw = dict(change)
    if kw.get("window_end") == "reversed":
        kw["window_end"] = window[0] - timedelta(hours=1)
    elif kw.get("window_end") == "past":
        kw["window_start"] = timezone.now() - timedelta(days=2)
        kw["window_end"] = timezone.now() - timedelta(days=1)
    elif kw.get("window_end") == "long":
        kw["window_end"] = window[0] + timedelta(days=90)
    before = Demand.objects.count()
    with pytest.raises(ValidationError) as exc:
        post(**kw)
    assert field in exc.value.message_dict
    assert Demand.objects.count() == before


def test_a_person_without_a_grid_cannot_have_a_demand_yet(post, admin_user):
    from yiwang.registry.services import resident_create

    lost = resident_create(actor=admin_user, name="无址", address="火星路1号")
    assert lost.grid_id is None
    with pytest.raises(ValidationError, match="补全"):
        post(actor=admin_user, resident=lost)


def test_scope_worker_b_cannot_post_or_see_grid_a(post, worker_b, elder_a):
    with pytest.raises(PermissionDenied):
        post(actor=worker_b)
    demand = post()
    with pytest.raises(Http404):
        sel.demand_access(actor=worker_b, id=demand.id)
    rows, total = sel.demand_list(actor=worker_b)
    assert total == 0 and rows == []
    with pytest.raises(PermissionDenied):
        s.demand_cancel(actor=worker_b, demand=demand, reason="x")


def test_department_and_outsider_see_no_demands(post, department_staff, outsider):
    post()
    assert sel.demand_list(actor=department_staff)[1] == 0
    assert sel.demand_list(actor=outsider)[1] == 0


def test_the_list_puts_overdue_and_unmatched_first(post, make_provider, worker_a, window):
    p = make_provider("甲", slots=MON, user=True)
    matched = post()
    (offer,) = s.demand_offer(actor=worker_a, demand=matched, providers=[p])
    s.offer_accept(actor=p.user, offer=offer)
    open_one = post()
    urgent = post(urgency=Demand.Urgency.URGENT)
    later = window[1] + timedelta(hours=1)  # all three windows have passed: all overdue
    soon = post(
        window_start=window[0] + timedelta(days=1), window_end=window[1] + timedelta(days=1)
    )
    rows, total = sel.demand_list(actor=worker_a, now=later)
    assert total == 4
    assert [d.id for d in rows] == [urgent.id, matched.id, open_one.id, soon.id]
    counts = sel.demand_counts(actor=worker_a, now=later)
    assert counts["overdue"] == 3 and counts["unmatched"] == 3


def test_reading_demands_is_logged_once(post, worker_a):
    d = post()
    before = AccessLog.objects.count()
    sel.demand_list(actor=worker_a)
    sel.demand_view(actor=worker_a, id=d.id)
    logs = list(AccessLog.objects.order_by("id")[before:])
    assert [row.action for row in logs] == ["list", "view"]
    assert logs[1].object_type == "resident"


def test_provider_sees_a_masked_demand_until_it_accepts(post, make_provider, worker_a):
    p = make_provider("甲", slots=MON, user=True)
    demand = post()
    (offer,) = s.demand_offer(actor=worker_a, demand=demand, providers=[p])
    page = sel.offers_for_provider(actor=p.user)
    ((_o, shown),) = page["pending"]
    assert shown["recipient"] == "王**" and "0000" not in shown["phone"]
    assert "201" not in shown["address"] and "独居老人" in shown["tags"]
    assert "id_number" not in shown
    s.offer_accept(actor=p.user, offer=offer)
    ((_d, shown),) = sel.offers_for_provider(actor=p.user)["matched"]
    assert shown["recipient"] == "王秀英" and shown["phone"] == "13800138000"
    assert "201" in shown["address"]


def test_slots_overlap_and_parse_errors(make_provider, admin_user):
    p = make_provider("甲")
    with pytest.raises(ValidationError, match="时段重叠"):
        s.provider_set_slots(
            actor=admin_user, provider=p, slots="周一 09:00-12:00; 周一 11:00-13:00"
        )
    with pytest.raises(ValidationError, match="无法识别"):
        s.provider_set_slots(actor=admin_user, provider=p, slots="星期八 9点")
    with pytest.raises(ValidationError, match="晚于"):
        s.provider_set_slots(actor=admin_user, provider=p, slots="周二 12:00-09:00")
    s.provider_set_slots(actor=admin_user, provider=p, slots="周一 09:00-12:00；周三 14:00-17:00")
    p.refresh_from_db()
    assert p.slots == [[0, 540, 720], [2, 840, 1020]]


def test_register_needs_services_and_an_area(admin_user, haircut):
    with pytest.raises(ValidationError) as exc:
        s.provider_register(actor=admin_user, name="甲", services=[], areas=[])
    assert "services" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        s.provider_register(actor=admin_user, name="甲", services=[haircut], areas=[])
    assert "areas" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        s.provider_register(
            actor=admin_user, name="甲", services=[haircut], areas=[("grid", 1)], capacity=0
        )
    assert "capacity" in exc.value.message_dict
    assert not Provider.objects.exists()


def test_grid_worker_registers_but_cannot_verify(worker_a, tree, haircut):
    p = s.provider_register(
        actor=worker_a, name="新志愿者", services=[haircut], areas=[("grid", tree.grid_a1.id)]
    )
    assert p.verification == Provider.Verification.PENDING
    with pytest.raises(PermissionDenied):
        s.provider_verify(actor=worker_a, provider=p, verification="verified")


def test_a_closed_case_and_a_finished_call_count_as_service_records(
    tree, admin_user, worker_a, elder_a
):
    from yiwang.cases.models import Category
    from yiwang.cases.services import case_report, case_resolve_on_spot
    from yiwang.outreach.models import CallTask, Campaign, Outcome
    from yiwang.outreach.services import calltask_record

    from ..cases.conftest import jpeg

    case = case_report(
        actor=admin_user,
        channel="grid_worker",
        category=Category.objects.filter(parent__isnull=False).first(),
        title="楼道灯不亮",
        address="铁山路22号",
    )
    case_resolve_on_spot(actor=admin_user, case=case, reply="已修好", after_photo=jpeg())
    assert ServiceRecord.objects.filter(kind="case", ref=case.number, user=admin_user).exists()
    campaign = Campaign.objects.create(title="回访", owner=admin_user, purpose="visit")
    task = CallTask.objects.create(
        campaign=campaign, resident=elder_a, grid=tree.grid_a1, caller=worker_a
    )
    calltask_record(actor=worker_a, task=task, outcome=Outcome.NOT_REACHED)
    assert not ServiceRecord.objects.filter(kind="call").exists()  # not final yet
    calltask_record(actor=worker_a, task=task, outcome=Outcome.REACHED)
    calltask_record(actor=worker_a, task=task, outcome=Outcome.REACHED)
    assert ServiceRecord.objects.filter(kind="call", user=worker_a).count() == 1
    rows = sel.service_record_summary(
        actor=admin_user,
        by="user",
        start=timezone.localdate() - timedelta(days=1),
        end=timezone.localdate() + timedelta(days=1),
    )
    assert sorted((r["name"], r["records"], r["people"]) for r in rows) == [
        ("admin", 1, 0),
        ("worker_a", 1, 1),
    ]


def test_the_resident_card_lists_their_demands_and_offers_to_post_one(
    client, post, worker_a, worker_b, elder_a
):
    demand = post()
    client.force_login(worker_a)
    html = client.get(f"/registry/residents/{elder_a.id}/").content.decode()
    assert demand.number in html and "为其发布需求" in html
    assert f"/matching/demands/new/?resident={elder_a.id}" in html
    client.force_login(worker_b)
    assert client.get(f"/registry/residents/{elder_a.id}/").status_code == 404


def test_totals_count_a_person_once_however_many_helped(post, make_provider, worker_a):
    a = make_provider("甲", slots=MON, user=True)
    b = make_provider("乙", slots=MON, user=True)
    for p in (a, b):
        demand = post()
        (offer,) = s.demand_offer(actor=worker_a, demand=demand, providers=[p])
        s.offer_accept(actor=p.user, offer=offer)
        s.demand_complete(actor=p.user, demand=demand, hours="2")
    period = dict(
        start=timezone.localdate() - timedelta(days=1), end=timezone.localdate() + timedelta(days=1)
    )
    rows = sel.service_record_summary(actor=worker_a, by="provider", **period)
    assert sum(r["people"] for r in rows) == 2  # each provider helped the same person
    totals = sel.service_record_totals(actor=worker_a, **period)
    assert totals == {"records": 2, "people": 1, "families": 0, "hours": 4.0}


def test_cli_backfills_records_and_expires_offers(post, make_provider, worker_a, capsys):
    from yiwang.cli import main

    make_provider("甲", slots=MON)
    demand = post()
    s.demand_offer(actor=worker_a, demand=demand, providers=list(Provider.objects.all()))
    Offer.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert main(["matching", "expire"]) == 0
    assert "已处理 1 个超时派单" in capsys.readouterr().out
    assert Offer.objects.get().status == Offer.Status.EXPIRED
    assert main(["matching", "records"]) == 0
    assert "已补记 0 条服务记录" in capsys.readouterr().out


def test_demand_match_rate_per_grid_for_the_star_rubric(post, make_provider, worker_a, tree):
    p = make_provider("甲", slots=MON, user=True)
    taken, _open, cancelled = post(), post(), post()
    (offer,) = s.demand_offer(actor=worker_a, demand=taken, providers=[p])
    s.offer_accept(actor=p.user, offer=offer)
    s.demand_cancel(actor=worker_a, demand=cancelled, reason="住院")
    now = timezone.now()
    counts = sel.demand_match_counts(now - timedelta(days=1), now + timedelta(days=1))
    assert counts == {tree.grid_a1.id: (1, 2)}  # the cancelled one is left out
    assert sel.demand_match_rate(*counts[tree.grid_a1.id]) == 0.5
    assert sel.demand_match_rate(0, 0) is None
