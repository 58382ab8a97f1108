"""The matching API end to end: post, rank, offer, a race lost with 409, complete, rate; scope
and bad input with the shared error shape."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from yiwang.matching.models import Demand, Offer

MON = [[0, 8 * 60, 12 * 60]]


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def posted(worker_a, elder_a, haircut, window):
    c = client_for(worker_a)
    r = c.post(
        "/api/v1/matching/demands",
        {
            "service_id": haircut.id,
            "resident_id": elder_a.id,
            "window_start": window[0].isoformat(),
            "window_end": window[1].isoformat(),
            "description": "老人行动不便,需上门理发",
        },
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    return r.json()


def test_post_rank_offer_accept_complete_rate(posted, worker_a, make_provider):
    a = make_provider("甲", slots=MON, user=True)
    b = make_provider("乙", slots=MON, user=True)
    desk = client_for(worker_a)
    assert posted["number"].startswith("XQ") and posted["status"] == "open"
    ranking = desk.get(f"/api/v1/matching/demands/{posted['id']}/ranking").json()
    assert [c["name"] for c in ranking["candidates"]] == ["甲", "乙"]
    assert ranking["candidates"][0]["reasons"]
    r = desk.post(
        f"/api/v1/matching/demands/{posted['id']}/offers",
        {"provider_ids": [a.id, b.id]},
        content_type="application/json",
    )
    assert r.status_code == 201
    offer_a, offer_b = (o["id"] for o in r.json())
    mine = client_for(a.user).get("/api/v1/matching/me/offers").json()
    assert mine["pending"][0]["recipient"] == "王**"
    assert client_for(a.user).post(f"/api/v1/matching/offers/{offer_a}/accept").status_code == 200
    lost = client_for(b.user).post(f"/api/v1/matching/offers/{offer_b}/accept")
    assert lost.status_code == 409
    assert lost.json()["code"] == "conflict" and "其他服务方" in lost.json()["message"]
    r = client_for(a.user).post(
        f"/api/v1/matching/demands/{posted['id']}/complete",
        {"note": "已理发", "hours": "1.5"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["hours"] == 1.5
    bad = desk.post(
        f"/api/v1/matching/demands/{posted['id']}/rate",
        {"rating": 9},
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["field"] == "rating"
    ok = desk.post(
        f"/api/v1/matching/demands/{posted['id']}/rate",
        {"rating": 5},
        content_type="application/json",
    )
    assert ok.status_code == 200
    today = timezone.localdate()
    rows = desk.get(
        "/api/v1/matching/records",
        {"by": "provider", "start": str(today - timedelta(days=1)), "end": str(today)},
    ).json()
    assert rows[0]["name"] == "甲" and rows[0]["hours"] == 1.5


def test_scope_holds_through_the_api(posted, worker_b, department_staff):
    for user in (worker_b, department_staff):
        c = client_for(user)
        assert c.get(f"/api/v1/matching/demands/{posted['id']}").status_code == 404
        assert c.get("/api/v1/matching/demands").json()["count"] == 0
        r = c.post(
            f"/api/v1/matching/demands/{posted['id']}/cancel",
            {"reason": "x"},
            content_type="application/json",
        )
        assert r.status_code == 404


def test_bad_input_names_the_field(worker_a, elder_a, haircut, window):
    c = client_for(worker_a)
    r = c.post(
        "/api/v1/matching/demands",
        {
            "service_id": haircut.id,
            "resident_id": elder_a.id,
            "window_start": window[1].isoformat(),
            "window_end": window[0].isoformat(),
        },
        content_type="application/json",
    )
    assert r.status_code == 400 and r.json()["field"] == "window_end"
    r = c.post(
        "/api/v1/matching/demands",
        {"service_id": haircut.id, "resident_id": elder_a.id, "window_start": "明天"},
        content_type="application/json",
    )
    assert r.status_code == 400
    r = c.get("/api/v1/matching/records", {"by": "x", "start": "2026-01-01", "end": "2026-02-01"})
    assert r.status_code == 400 and r.json()["field"] == "by"
    r = c.get(
        "/api/v1/matching/records", {"by": "user", "start": "2026-03-01", "end": "2026-02-01"}
    )
    assert r.status_code == 400 and r.json()["field"] == "end"
    assert not Demand.objects.exists() and not Offer.objects.exists()


def test_the_open_call_list_is_public(client, db):
    assert client.get("/api/v1/matching/calls").status_code == 200
