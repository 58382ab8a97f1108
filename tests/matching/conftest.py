"""Fixtures for matching: residents in grids A1 and B1, providers made to measure, and a
demand window on a known weekday in the future."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from yiwang.matching import services as s
from yiwang.matching.models import Provider, Service
from yiwang.registry.services import resident_create


def next_weekday(weekday: int, hour: int, weeks: int = 1) -> datetime:
    """A local time on the given weekday (0 = Monday) at least a few days ahead."""
    today = timezone.localdate()
    day = today + timedelta(days=(weekday - today.weekday()) % 7 + 7 * weeks)
    return timezone.make_aware(datetime.combine(day, time(hour)))


@pytest.fixture
def haircut(db):
    return Service.objects.get(code="HAIRCUT")


@pytest.fixture
def meal(db):
    return Service.objects.get(code="MEAL")


@pytest.fixture
def elder_a(tree, admin_user):
    """An elderly resident of grid A1 (铁山路22号)."""
    return resident_create(
        actor=admin_user,
        name="王秀英",
        address="铁山路22号3单元201",
        phones=["13800138000"],
        tags=["独居老人", "高龄"],
    )


@pytest.fixture
def elder_b(tree, admin_user):
    return resident_create(
        actor=admin_user,
        name="刘桂兰",
        address="伊春路168号紫云台小区1号楼",
        phones=["13900139000"],
    )


@pytest.fixture
def make_provider(tree, admin_user, haircut):
    count = {"n": 0}

    def make(
        name: str,
        *,
        services=None,
        areas=None,
        home_grid=None,
        slots=None,
        capacity: int = 3,
        radius_m: int = 0,
        lat=None,
        lng=None,
        verified: bool = True,
        user=None,
        kind: str = Provider.Kind.VOLUNTEER,
    ) -> Provider:
        count["n"] += 1
        if user is True:
            user = get_user_model().objects.create_user(f"vol{count['n']}", password="pw")
        return s.provider_register(
            actor=admin_user,
            kind=kind,
            name=name,
            services=services or [haircut],
            areas=[("grid", tree.grid_a1.id)] if areas is None else areas,
            home_grid=home_grid,
            slots=slots or [],
            capacity=capacity,
            radius_m=radius_m,
            lat=lat,
            lng=lng,
            verified=verified,
            user=user,
        )

    return make


@pytest.fixture
def window():
    """Next-next Monday 09:00–12:00 local."""
    start = next_weekday(0, 9)
    return start, start + timedelta(hours=3)


@pytest.fixture
def post(worker_a, haircut, elder_a, window):
    def make(**kw):
        kw.setdefault("actor", worker_a)
        kw.setdefault("service", haircut)
        kw.setdefault("resident", elder_a)
        kw.setdefault("window_start", window[0])
        kw.setdefault("window_end", window[1])
        return s.demand_post(**kw)

    return make
