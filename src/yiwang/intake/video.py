"""Signed event webhooks from video analytics and other sensors: camera → place → grid, event
type → category; idempotent on the event id; repeats of one type at one camera within the
type's window are counted on the open case instead of opening another."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from yiwang.cases import events as case_events
from yiwang.cases.services import case_report
from yiwang.cases.states import OPEN_STATES, Action, Channel

from .models import Camera, EventType, VideoEvent


def signature_ok(body: bytes, header: str, secret: str) -> bool:
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


@dataclass
class EventResult:
    event: VideoEvent
    created_case: bool
    replayed: bool = False


def event_receive(
    *, actor, event_id: str, camera_id: str, event_type: str, occurred_at, snapshot=None
) -> EventResult:
    existing = VideoEvent.objects.filter(event_id=event_id).select_related("case").first()
    if existing is not None:
        return EventResult(existing, created_case=False, replayed=True)
    camera = Camera.objects.filter(camera_id=camera_id).first()
    if camera is None:
        raise ValidationError({"camera_id": [_("未登记的设备 %(c)s") % {"c": camera_id}]})
    kind = EventType.objects.select_related("category").filter(code=event_type).first()
    if kind is None:
        raise ValidationError({"event_type": [_("未知事件类型 %(t)s") % {"t": event_type}]})
    window = timedelta(minutes=kind.merge_window_minutes)
    try:
        with transaction.atomic():
            recent = (
                VideoEvent.objects.select_related("case")
                .filter(
                    camera=camera,
                    event_type=kind,
                    occurred_at__gte=occurred_at - window,
                    case__state__in=OPEN_STATES,
                )
                .order_by("-occurred_at")
                .first()
            )
            if recent is not None:
                event = VideoEvent.objects.create(
                    event_id=event_id,
                    camera=camera,
                    event_type=kind,
                    occurred_at=occurred_at,
                    case=recent.case,
                )
                count = VideoEvent.objects.filter(case=recent.case).count()
                case_events.record(
                    recent.case,
                    actor=None,
                    action=Action.NOTE,
                    note=_("%(camera)s 再次识别到%(kind)s (第 %(n)s 次)")
                    % {"camera": camera.name, "kind": kind.name, "n": count},
                    data={"event_id": event_id, "count": count},
                )
                return EventResult(event, created_case=False)
            case = case_report(
                actor=None,
                channel=Channel.VIDEO,
                category=kind.category,
                title=f"{camera.name}{kind.name}",
                description=_("视频监控识别:%(kind)s,点位 %(camera)s")
                % {"kind": kind.name, "camera": camera.name},
                lat=camera.lat,
                lng=camera.lng,
                external_id=event_id,
                reported_at=occurred_at,
            )
            event = VideoEvent.objects.create(
                event_id=event_id,
                camera=camera,
                event_type=kind,
                occurred_at=occurred_at,
                case=case,
            )
            if snapshot is not None:
                from yiwang.cases.photos import attach_photo

                attach_photo(actor=None, case=case, upload=snapshot, kind="before")
            return EventResult(event, created_case=True)
    except IntegrityError:
        # The same event id raced in twice: the first one stands.
        existing = VideoEvent.objects.get(event_id=event_id)
        return EventResult(existing, created_case=False, replayed=True)
