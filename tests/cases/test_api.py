"""Cases over the JSON API: the authorization matrix, 409s, bad input, idempotency."""

import pytest

from tests.conftest import LAT0, LNG0, centre, login
from yiwang.cases import services as s
from yiwang.cases.models import Case


def body(cat, **kw):
    lat, lng = centre(0)
    return {
        "category_id": cat["SRHJ04"].id,
        "title": "小区后院卫生脏乱差",
        "description": "存在蚊虫鼠蚁孳生的问题,请责任部门尽快清理卫生,并答复。",
        "lat": lat,
        "lng": lng,
        "reporter_name": "王先生",
        "reporter_phone": "13900002222",
        **kw,
    }


def post(client, url, data, **headers):
    return client.post(url, data, content_type="application/json", **headers)


def test_report_and_read_back(client, cat, resident):
    login(client, resident)
    r = post(client, "/api/v1/cases/", body(cat))
    assert r.status_code == 201, r.json()
    data = r.json()
    assert data["state"] == "reported" and data["grid_code"] == "S01C0101"
    assert data["reporter"] == "王先生" and data["reporter_phone"] == ""  # not a handler
    assert [e["action"] for e in data["events"]] == ["report"]
    mine = client.get("/api/v1/cases/mine").json()
    assert [c["number"] for c in mine] == [data["number"]]


def test_idempotency_header(client, cat, resident):
    login(client, resident)
    a = post(client, "/api/v1/cases/", body(cat), HTTP_IDEMPOTENCY_KEY="k-1").json()
    b = post(client, "/api/v1/cases/", body(cat), HTTP_IDEMPOTENCY_KEY="k-1").json()
    assert a["id"] == b["id"]
    assert Case.objects.count() == 1


@pytest.mark.parametrize(
    "change, field",
    [
        ({"category_id": 999999}, "category_id"),
        ({"title": ""}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"lat": LAT0, "lng": LNG0 - 0.05}, "location"),
        ({"lat": 91}, "lat"),
        ({"lat": None, "lng": None, "address": ""}, "location"),
    ],
)
def test_bad_reports_are_named(client, cat, resident, change, field):
    login(client, resident)
    r = post(client, "/api/v1/cases/", body(cat, **change))
    assert r.status_code == 400, r.json()
    assert r.json()["field"] == field
    assert Case.objects.count() == 0


def test_html_is_kept_as_text(client, cat, resident):
    login(client, resident)
    r = post(client, "/api/v1/cases/", body(cat, title="<script>alert(1)</script>"))
    assert r.json()["title"] == "<script>alert(1)</script>"


def test_close_before_reply_is_409_with_allowed_steps(client, report, community_a_staff):
    case = report()
    login(client, community_a_staff)
    r = post(client, f"/api/v1/cases/{case.id}/actions/accept", {})
    assert r.status_code == 200 and r.json()["state"] == "accepted"
    r = post(client, f"/api/v1/cases/{case.id}/actions/close", {"outcome": "solved"})
    assert r.status_code == 409
    data = r.json()
    assert data["code"] == "conflict" and data["state"] == "accepted"
    assert {"dispatch", "start", "escalate"} <= set(data["allowed"])
    assert "派单" in data["message"]
    case.refresh_from_db()
    assert case.state == "accepted"


def test_stale_version_is_409(client, report, community_a_staff):
    case = report()
    login(client, community_a_staff)
    post(client, f"/api/v1/cases/{case.id}/actions/accept", {"expected_version": 1})
    r = post(client, f"/api/v1/cases/{case.id}/actions/start", {"expected_version": 1})
    assert r.status_code == 409 and "已被他人更新" in r.json()["message"]


def test_unknown_action_is_404(client, report, community_a_staff):
    case = report()
    login(client, community_a_staff)
    assert post(client, f"/api/v1/cases/{case.id}/actions/explode", {}).status_code == 404


@pytest.mark.parametrize(
    "persona, sees",
    [
        ("leader", True),
        ("street_staff", True),  # street A
        ("community_a_staff", True),
        ("community_staff", False),  # community B
        ("worker_a", True),
        ("worker_b", False),
        ("department_staff", False),  # nothing dispatched to it yet
        ("outsider", False),
        ("resident", True),  # the reporter
    ],
)
def test_case_visibility_matrix(client, request, report, persona, sees):
    case = report()
    user = request.getfixturevalue(persona)
    login(client, user)
    r = client.get(f"/api/v1/cases/{case.id}")
    assert r.status_code == (200 if sees else 404)
    listed = [c["id"] for c in client.get("/api/v1/cases/").json()]
    assert (case.id in listed) == sees


def test_denied_action_changes_nothing(client, report, worker_b, community_staff):
    case = report()
    for user in (worker_b, community_staff):
        login(client, user)
        assert post(client, f"/api/v1/cases/{case.id}/actions/accept", {}).status_code == 404
    case.refresh_from_db()
    assert case.state == "reported" and case.events.count() == 1


def test_department_sees_what_is_dispatched_to_it(
    client, report, community_a_staff, handlers, depts
):
    case = report("SRHJ01")
    login(client, handlers["cg"])
    assert client.get(f"/api/v1/cases/{case.id}").status_code == 404
    s.case_accept(actor=community_a_staff, case=case)
    s.case_dispatch(actor=community_a_staff, case=case, lead=depts["cg"])
    data = client.get(f"/api/v1/cases/{case.id}").json()
    assert "start" in data["allowed_actions"] and "return" in data["allowed_actions"]
    assert data["reporter_phone"] == "13800001111"  # a handler sees the contact
    login(client, handlers["zj"])
    assert client.get(f"/api/v1/cases/{case.id}").status_code == 404


def test_full_flow_over_the_api(client, report, community_a_staff, handlers, depts, worker_a):
    case = report("SRHJ01")
    login(client, community_a_staff)
    post(client, f"/api/v1/cases/{case.id}/actions/accept", {})
    r = post(client, f"/api/v1/cases/{case.id}/actions/dispatch", {"lead_id": depts["cg"].id})
    assert r.json()["state"] == "dispatched"
    login(client, handlers["cg"])
    post(client, f"/api/v1/cases/{case.id}/actions/start", {})
    r = post(client, f"/api/v1/cases/{case.id}/actions/reply", {"reply": "已得到整治"})
    assert r.json()["state"] == "replied"
    login(client, worker_a)
    assert post(client, f"/api/v1/cases/{case.id}/actions/verify", {}).json()["state"] == "verified"
    login(client, handlers["cg"])
    r = post(client, f"/api/v1/cases/{case.id}/actions/close", {"outcome": "solved"})
    assert r.json()["state"] == "closed" and r.json()["outcome_label"] == "已解决"


def test_queue_counts(client, report, community_a_staff):
    report()
    report()
    login(client, community_a_staff)
    data = client.get("/api/v1/cases/queue").json()
    assert data["counts"]["reported"] == 2 and data["counts"]["overdue"] == 0
    assert len(data["cases"]) == 2


def test_categories_are_public(client, cat):
    data = client.get("/api/v1/cases/categories").json()
    assert any(c["name"] == "占道经营" for c in data)


def test_photo_upload(client, report, resident):
    from tests.cases.conftest import jpeg

    case = report()
    login(client, resident)
    r = client.post(f"/api/v1/cases/{case.id}/photos", {"photo": jpeg()})
    assert r.status_code == 201
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = client.post(
        f"/api/v1/cases/{case.id}/photos",
        {"photo": SimpleUploadedFile("x.jpg", b"<html>not an image</html>", "image/jpeg")},
    )
    assert r.status_code == 400 and r.json()["field"] == "photo"


def test_token_only_post_passes_without_csrf(cat, resident):
    """API clients send a bearer token and no session: CSRF does not apply to them."""
    from django.test import Client

    from yiwang.org.services import api_token_create

    _t, key = api_token_create(actor=None, user=resident, name="app")
    strict = Client(enforce_csrf_checks=True)
    r = strict.post(
        "/api/v1/cases/",
        body(cat),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert r.status_code == 201, r.content
    # A session without the CSRF token is still refused.
    strict.force_login(resident)
    r = strict.post("/api/v1/cases/", body(cat), content_type="application/json")
    assert r.status_code == 403
