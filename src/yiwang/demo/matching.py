"""Demo resource and demand lists: volunteers and teams per community, needs of the elderly
living alone in every state (done and rated over the past months, matched, offered, unmatched
with the reason), red partners and open calls from publication to evaluation. Everything goes
through the matching services, with `now` set in the past for the history."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from yiwang.matching import services as s
from yiwang.matching.errors import MatchConflict
from yiwang.matching.models import Demand, Provider, Service
from yiwang.registry.models import Organization, Resident

SLOT_SETS = [
    [[0, 540, 720], [2, 540, 720], [4, 540, 720]],
    [[1, 840, 1020], [3, 840, 1020], [5, 540, 720]],
    [[5, 480, 1080], [6, 480, 1080]],
    [],  # by arrangement
]


def _at(day, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


@transaction.atomic
def build_matching(built, *, scale: str = "small", seed: int = 20261130) -> list[tuple[str, str]]:
    """Returns the extra demo logins (username, label)."""
    from . import DEMO_PASSWORD

    rnd = random.Random(seed + 8)
    User = get_user_model()
    admin = User.objects.get(username="admin")
    services = list(Service.objects.filter(is_active=True))
    by_code = {x.code: x for x in services}
    today = timezone.localdate()
    communities = list(built.communities)
    if scale != "small":
        # A dozen communities at district scale, the demo logins' own among them.
        own = [c for c in communities if c.name == "兴德路社区"]
        communities = own + [c for c in communities if c not in own][: 12 - len(own)]
    logins: list[tuple[str, str]] = []

    volunteer_user = User(username="zhiyuan", first_name="志愿者")
    volunteer_user.set_password(DEMO_PASSWORD)
    volunteer_user.save()
    partner_user = User(username="huoban", first_name="红色合伙人")
    partner_user.set_password(DEMO_PASSWORD)
    partner_user.save()

    providers_by_community: dict[int, list[Provider]] = {}
    for community in communities:
        grid_ids = [g.id for g in built.grids if g.community_id == community.id]
        people = list(
            Resident.objects.filter(grid_id__in=grid_ids, archived_at__isnull=True)
            .exclude(tags__name__in=["独居老人", "高龄"])
            .order_by("id")[:40]
        )
        chosen = rnd.sample(people, min(4, len(people)))
        mine = []
        for i, person in enumerate(chosen):
            user = volunteer_user if (community.name == "兴德路社区" and i == 0) else None
            offered = rnd.sample(services, 2)
            if user is not None:
                offered = [by_code["HAIRCUT"], by_code["SHOPPING"]]
            mine.append(
                s.provider_register(
                    actor=admin,
                    kind=Provider.Kind.VOLUNTEER,
                    name=person.name,
                    resident=person,
                    user=user,
                    services=offered,
                    areas=[("community", community.id)],
                    home_grid=built_grid(built, person.grid_id),
                    lat=person.lat,
                    lng=person.lng,
                    capacity=rnd.choice((2, 3)),
                    slots=SLOT_SETS[i % len(SLOT_SETS)],
                    verified=True,
                )
            )
        team_org = Organization.objects.filter(
            kind=Organization.Kind.VOLUNTEER_TEAM, grid_id__in=grid_ids
        ).first()
        mine.append(
            s.provider_register(
                actor=admin,
                kind=Provider.Kind.TEAM,
                name=team_org.name if team_org else f"{community.name}志愿服务队",
                organization=team_org,
                services=rnd.sample(services, 4),
                areas=[("community", community.id)],
                capacity=5,
                slots=SLOT_SETS[rnd.randrange(3)],
                verified=True,
            )
        )
        # One waiting for a desk to verify it.
        if people:
            newcomer = people[-1]
            s.provider_register(
                actor=admin,
                name=newcomer.name,
                resident=newcomer,
                services=[rnd.choice(services)],
                areas=[("community", community.id)],
                slots=SLOT_SETS[0],
            )
        providers_by_community[community.id] = mine

    # A district team that serves by radius (陪诊 and 法律咨询 anywhere within 3 km).
    centre = built.grids[len(built.grids) // 2]
    s.provider_register(
        actor=admin,
        kind=Provider.Kind.TEAM,
        name="市北区巾帼志愿服务总队",
        services=[by_code["ESCORT"], by_code["LEGAL"], by_code["COUNSEL"]],
        radius_m=3000,
        home_grid=centre,
        capacity=8,
        verified=True,
    )

    # Needs: the elderly living alone, in every state.
    for community in communities:
        grid_ids = [g.id for g in built.grids if g.community_id == community.id]
        elders = list(
            Resident.objects.filter(
                grid_id__in=grid_ids, tags__name__in=["独居老人", "高龄", "残疾"]
            )
            .distinct()
            .order_by("id")[:12]
        )
        mine = providers_by_community[community.id]
        for n, elder in enumerate(elders):
            provider = mine[n % len(mine)]
            service = rnd.choice(list(provider.services.all()))
            if n < 6:  # done, over the past three months
                day = today - timedelta(days=rnd.randint(3, 90))
                _history(admin, provider, elder, service, day, rnd)
            elif n < 8:  # matched, coming up
                demand = _post(admin, elder, service, today + timedelta(days=rnd.randint(1, 6)))
                if demand is not None:
                    try:
                        (offer,) = s.demand_offer(actor=admin, demand=demand, providers=[provider])
                        s.offer_accept(actor=admin, offer=offer)
                    except (MatchConflict, ValidationError):  # full: it stays on the list
                        pass
            elif n < 10:  # offered, waiting for an answer
                demand = _post(admin, elder, service, today + timedelta(days=rnd.randint(2, 9)))
                if demand is not None:
                    try:
                        s.demand_offer(actor=admin, demand=demand, providers=[provider])
                    except (MatchConflict, ValidationError):
                        pass
            else:  # open: a service nobody nearby offers, so the reason shows
                _post(admin, elder, by_code["BATH"], today + timedelta(days=rnd.randint(1, 5)))
    _volunteer_inbox(admin, volunteer_user, today)
    s.service_records_backfill()
    logins.append(("zhiyuan", "志愿者 · 兴德路社区 (我的服务)"))

    _open_calls(admin, partner_user, built, today)
    logins.append(("huoban", "红色合伙人 · 揭榜报名"))
    return logins


def _volunteer_inbox(admin, volunteer_user, today) -> None:
    """The demo volunteer's phone page: one offer waiting for an answer and one job booked."""
    provider = Provider.objects.filter(user=volunteer_user).first()
    if provider is None:  # a district without 兴德路社区 (a custom tree)
        return
    community_id = provider.areas.values_list("community_id", flat=True).first()
    elders = Resident.objects.filter(
        grid__community_id=community_id, tags__name__in=["独居老人", "高龄"]
    ).distinct().order_by("-id")[:2]  # fmt: skip
    haircut = Service.objects.get(code="HAIRCUT")
    for n, elder in enumerate(elders):
        # Its slots are Monday, Wednesday and Friday mornings: the next ones after tomorrow.
        day = today + timedelta(days=2)
        while day.weekday() not in (0, 2, 4):
            day += timedelta(days=1)
        demand = _post(admin, elder, haircut, day + timedelta(days=7 * n))
        if demand is None:
            continue
        try:
            (offer,) = s.demand_offer(actor=admin, demand=demand, providers=[provider])
            if n == 1:
                s.offer_accept(actor=volunteer_user, offer=offer)
        except (MatchConflict, ValidationError):
            pass


def built_grid(built, grid_id):
    return next((g for g in built.grids if g.id == grid_id), None)


def _post(admin, elder, service, day, *, now=None) -> Demand | None:
    start = _at(day, 9)
    try:
        return s.demand_post(
            actor=admin,
            service=service,
            resident=elder,
            window_start=start,
            window_end=start + timedelta(hours=3),
            description="老人行动不便,需上门服务",
            now=now,
        )
    except ValidationError:  # a person not yet in a grid is skipped
        return None


def _history(admin, provider, elder, service, day, rnd) -> None:
    now = _at(day, 8)
    demand = _post(admin, elder, service, day, now=now)
    if demand is None:
        return
    try:
        (offer,) = s.demand_offer(actor=admin, demand=demand, providers=[provider], now=now)
        s.offer_accept(actor=admin, offer=offer, now=now)
    except (MatchConflict, ValidationError):  # full: it stays on the list
        return
    s.demand_complete(actor=admin, demand=demand, note="服务完成,老人满意", now=_at(day, 11))
    s.demand_rate(actor=admin, demand=demand, rating=rnd.choice((5, 5, 5, 4, 4, 3)))


def _open_calls(admin, partner_user, built, today) -> None:
    orgs = list(
        Organization.objects.filter(
            kind__in=[Organization.Kind.ENTERPRISE, Organization.Kind.SOCIAL,
                      Organization.Kind.PROPERTY_COMPANY]
        ).order_by("id")[:3]
    )  # fmt: skip
    partners = [
        s.partner_join(actor=admin, organization=o, members=[partner_user] if i == 0 else [])
        for i, o in enumerate(orgs)
    ]
    if not partners:
        return
    street = built.streets[0]
    past = _at(today - timedelta(days=60), 9)
    done = s.call_create(
        actor=admin,
        title="老旧小区楼道照明改造",
        description="为 6 个老旧小区的 120 个楼道更换声控照明,并建立报修机制",
        location=street.name,
        budget="80000",
        criteria="具备电工资质,有社区服务经验",
        apply_by=past + timedelta(days=10),
        unit=("street", street),
        now=past,
    )
    s.call_publish(actor=admin, call=done, now=past)
    apps = [
        s.call_apply(
            actor=admin, call=done, partner=p, proposal=f"方案{i + 1}:分两期实施", now=past
        )
        for i, p in enumerate(partners[:2])
    ]
    s.call_choose(
        actor=admin,
        call=done,
        applications=apps[:1],
        milestones=[("方案确认", None), ("施工完成", None)],
    )
    for m in apps[0].milestones.all():
        s.milestone_submit(actor=admin, milestone=m, evidence="已完成,附照片", now=past)
        s.milestone_accept(actor=admin, milestone=m)
    s.call_evaluate(actor=admin, application=apps[0], score=5, note="按期高质量完成")

    soon = timezone.now()
    live = s.call_create(
        actor=admin,
        title="背街小巷“红色管家”认领",
        description="认领辖区背街小巷的日常巡查与保洁,每月报告一次",
        location="全区 72 条背街小巷",
        in_kind="工具与党群服务中心场地",
        criteria="有党组织的企业或社会组织优先",
        apply_by=soon + timedelta(days=14),
        unit=("district", None),
    )
    s.call_publish(actor=admin, call=live)
    if len(partners) > 1:
        s.call_apply(actor=admin, call=live, partner=partners[1], proposal="认领 5 条小巷")
    s.call_create(
        actor=admin,
        title="社区食堂助餐配送",
        description="为 80 位独居老人每日配送午餐",
        budget="120000",
        apply_by=soon + timedelta(days=20),
        unit=("district", None),
    )  # a draft, not yet published
