"""Duplicates: suggested while reporting, merged afterwards, every reporter hears the outcome."""

from django.contrib.auth import get_user_model

from tests.cases.conftest import user
from tests.conftest import centre, login
from yiwang.cases import services as s
from yiwang.cases.models import Follower, Notification
from yiwang.cases.selectors import nearby_open
from yiwang.cases.states import Outcome, State


def test_nearby_open_cases_of_the_same_category(report, cat):
    lat, lng = centre(0)
    first = report("SRHJ04", lat=lat, lng=lng)
    report("SRHJ01", lat=lat, lng=lng)  # another category: not suggested
    report("SRHJ04", lat=lat + 0.004, lng=lng)  # ~440 m away: outside 60 m
    found = nearby_open(category=cat["SRHJ04"], lat=lat + 0.0003, lng=lng)  # ~33 m
    assert [c.id for c in found] == [first.id]
    assert 25 <= found[0].distance_m <= 40


def test_nearby_api(client, report, cat, resident):
    lat, lng = centre(0)
    first = report("SRHJ04", lat=lat, lng=lng)
    login(client, resident)
    data = client.get(
        "/api/v1/cases/nearby", {"category_id": cat["SRHJ04"].id, "lat": lat, "lng": lng}
    ).json()
    assert [c["number"] for c in data] == [first.number]


def test_merge_and_every_reporter_hears_the_outcome(
    transactional_db, report, community_a_staff, worker_a, resident
):
    other = user("resident_wang")
    original = report()
    duplicate = report(actor=other, title="同一处垃圾")
    duplicate = s.case_merge(actor=community_a_staff, case=duplicate, into=original)
    assert duplicate.state == State.REJECTED and duplicate.outcome == Outcome.DUPLICATE
    assert duplicate.duplicate_of == original
    assert Follower.objects.filter(case=original, user=other).exists()
    assert Notification.objects.filter(user=other, text__contains="合并").exists()
    s.case_accept(actor=community_a_staff, case=original)
    s.case_start(actor=community_a_staff, case=original)
    s.case_reply(actor=community_a_staff, case=original, reply="已清理")
    s.case_verify(actor=worker_a, case=original, ok=True)
    s.case_close(actor=community_a_staff, case=original, outcome=Outcome.SOLVED)
    for u in (resident, other):
        assert Notification.objects.filter(user=u, text__contains="已办结").exists(), u
    assert get_user_model().objects.count() >= 2


def test_merge_guards(report, community_a_staff, worker_b):
    import pytest
    from django.core.exceptions import ValidationError

    a, b = report(), report(i=2)  # b is in grid B1
    with pytest.raises(ValidationError):
        s.case_merge(actor=community_a_staff, case=a, into=a)
    with pytest.raises(ValidationError):
        s.case_merge(actor=community_a_staff, case=a, into=b)  # cannot see B1's case


def test_follow_instead_of_reporting_again(
    transactional_db, client, report, resident, community_a_staff, worker_a
):
    other = user("resident_zhao")
    case = report()
    login(client, other)
    r = client.post(f"/cases/{case.id}/follow/")
    assert r.status_code == 302 and r["Location"] == "/cases/mine/"
    client.post(f"/cases/{case.id}/follow/")  # twice: one follower
    assert Follower.objects.filter(case=case, user=other).count() == 1
    assert case.number in client.get("/cases/mine/").content.decode()
    s.case_accept(actor=community_a_staff, case=case)
    assert Notification.objects.filter(user=other, text__contains="已受理").exists()
    client.logout()
    assert client.post(f"/cases/{case.id}/follow/").status_code == 302  # to the login page
    assert Follower.objects.filter(case=case).count() == 2  # the reporter and the follower
