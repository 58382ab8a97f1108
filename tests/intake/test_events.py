"""Signed event webhooks: signature, idempotence, and the merge window."""

import base64
import hashlib
import hmac
import io
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from tests.conftest import centre
from yiwang.intake.models import Camera, EventType, VideoEvent

SECRET = "video-secret"
T0 = datetime(2026, 8, 12, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def camera(tree, cat):
    lat, lng = centre(2)
    EventType.objects.create(
        code="street_vending", name="占道经营", category=cat["SRHJ01"], merge_window_minutes=120
    )
    return Camera.objects.create(
        camera_id="CAM-001", name="伊春路紫云台小区门口", lat=lat, lng=lng, grid=tree.grid_b1
    )


def send(client, payload, secret=SECRET, signature=None):
    body = json.dumps(payload).encode()
    sig = signature or "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    with override_settings(YIWANG_EVENT_SECRETS={"video": SECRET}):
        return client.post(
            "/api/v1/intake/events/video",
            body,
            content_type="application/json",
            HTTP_X_YIWANG_SIGNATURE=sig,
        )


def event(n, minutes=0, **kw):
    return {
        "event_id": f"E{n}",
        "camera_id": "CAM-001",
        "event_type": "street_vending",
        "occurred_at": (T0 + timedelta(minutes=minutes)).isoformat(),
        **kw,
    }


def test_unsigned_or_wrongly_signed_is_401(client, camera):
    assert send(client, event(1), signature="sha256=deadbeef").status_code == 401
    assert send(client, event(1), secret="other").status_code == 401
    with override_settings(YIWANG_EVENT_SECRETS={"video": SECRET}):
        r = client.post(
            "/api/v1/intake/events/video", json.dumps(event(1)), content_type="application/json"
        )
    assert r.status_code == 401
    assert not VideoEvent.objects.exists()


def test_event_becomes_a_case_in_the_cameras_grid(client, camera, tree):
    r = send(client, event(1))
    assert r.status_code == 201
    data = r.json()
    assert data["created_case"] and data["count"] == 1
    ev = VideoEvent.objects.get()
    assert ev.case.grid == tree.grid_b1 and ev.case.channel == "video"
    assert ev.case.category.code == "SRHJ01"


def test_replayed_event_is_idempotent(client, camera):
    first = send(client, event(1)).json()
    again = send(client, event(1))
    assert again.status_code == 200
    assert again.json()["replayed"] and again.json()["case_number"] == first["case_number"]
    assert VideoEvent.objects.count() == 1


def test_repeats_within_the_window_merge_and_count(client, camera):
    first = send(client, event(1)).json()
    second = send(client, event(2, minutes=30)).json()
    third = send(client, event(3, minutes=110)).json()
    assert second["case_number"] == third["case_number"] == first["case_number"]
    assert third["count"] == 3 and not third["created_case"]
    later = send(client, event(4, minutes=400)).json()  # outside the window: a new case
    assert later["created_case"] and later["case_number"] != first["case_number"]


def test_bad_events_are_named(client, camera):
    r = send(client, event(5, camera_id="CAM-404"))
    assert r.status_code == 400 and r.json()["field"] == "camera_id"
    r = send(client, event(6, event_type="ufo"))
    assert r.status_code == 400 and r.json()["field"] == "event_type"
    r = send(client, {"event_id": "E7"})
    assert r.status_code == 400
    r = send(client, event(8, snapshot_base64="not base64!!"))
    assert r.status_code == 400 and r.json()["field"] == "snapshot_base64"


def test_snapshot_is_attached(client, camera):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 200, 10)).save(buf, format="JPEG")
    r = send(client, event(9, snapshot_base64=base64.b64encode(buf.getvalue()).decode()))
    assert r.status_code == 201
    assert VideoEvent.objects.get(event_id="E9").case.attachments.count() == 1
