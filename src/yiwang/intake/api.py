"""The 12345 hotline feed, its outbox, and signed event webhooks."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import APIKeyHeader
from pydantic import Field

from yiwang.org.selectors import scope_for

from . import hotline, video
from .keys import client_for_key, within_rate
from .models import HotlineTicket, Outbox

router = Router(tags=["intake"])


class ClientKey(APIKeyHeader):
    param_name = "X-Api-Key"

    def authenticate(self, request, key):
        client = client_for_key(key)
        if client is None:
            return None
        if not within_rate(client):
            raise HttpError(429, "rate limit exceeded")
        request.api_client = client
        return client


class TicketIn(Schema):
    ticket_no: str = Field(..., min_length=1, max_length=40)
    called_at: datetime
    caller: str = Field("", max_length=40)
    phone: str = Field("", max_length=30)
    address: str = Field(..., min_length=1, max_length=300)
    content: str = Field(..., min_length=1, max_length=4000)
    wants_reply: bool = True
    category: str = Field("", max_length=32)


class TicketOut(Schema):
    ticket_no: str
    created: bool
    case_number: str | None
    routed_to: str
    waiting_for_address: bool
    problem: str


def _ticket_out(result) -> dict:
    t = result.ticket
    return {
        "ticket_no": t.ticket_no,
        "created": result.created,
        "case_number": t.case.number if t.case_id else None,
        "routed_to": result.routed_to,
        "waiting_for_address": t.case_id is None,
        "problem": t.problem,
    }


@router.post("/hotline", response={200: TicketOut, 201: TicketOut}, auth=ClientKey())
def hotline_ticket(request, data: TicketIn):
    """A 12345 call summary. Idempotent on ticket_no: a replay answers 200 with the first case."""
    called_at = data.called_at
    if timezone.is_naive(called_at):
        called_at = timezone.make_aware(called_at)
    result = hotline.ticket_receive(
        actor=None,
        data=hotline.TicketIn(
            ticket_no=data.ticket_no.strip(),
            called_at=called_at,
            caller=data.caller,
            phone=data.phone.replace(" ", "")[:20],
            address=data.address,
            content=data.content,
            wants_reply=data.wants_reply,
            category_code=data.category,
        ),
    )
    return (201 if result.created else 200), _ticket_out(result)


def _district_desk(request):
    scope = scope_for(request.user)
    if not (scope.everything or scope.street_ids):
        raise PermissionDenied("intake desk")
    return scope


@router.get("/hotline/waiting")
def hotline_waiting(request):
    """Tickets whose address could not be placed in a grid, for a desk to complete."""
    _district_desk(request)
    return [
        {
            "ticket_no": t.ticket_no,
            "called_at": t.called_at,
            "address": t.address,
            "content": t.content,
            "problem": t.problem,
        }
        for t in HotlineTicket.objects.filter(case__isnull=True).order_by("called_at")[:200]
    ]


class PlaceIn(Schema):
    address: str = Field(..., min_length=1, max_length=300)


@router.post("/hotline/{ticket_no}/place", response=TicketOut)
def hotline_place(request, ticket_no: str, data: PlaceIn):
    _district_desk(request)
    ticket = get_object_or_404(HotlineTicket, ticket_no=ticket_no)
    result = hotline.ticket_place(actor=request.user, ticket=ticket, address=data.address)
    if result.problems:
        raise ValidationError({"address": result.problems})
    return _ticket_out(result)


@router.get("/outbox")
def outbox(request, status: str | None = None):
    """Replies owed to the hotline: pending, failed (retrying) and delivered."""
    _district_desk(request)
    qs = Outbox.objects.select_related("case").order_by("-created_at")
    if status:
        qs = qs.filter(status=status)
    return [
        {
            "id": o.id,
            "case_number": o.case.number,
            "ticket_no": o.payload.get("ticket_no"),
            "status": o.status,
            "attempts": o.attempts,
            "next_attempt_at": o.next_attempt_at,
            "last_error": o.last_error,
            "delivered_at": o.delivered_at,
        }
        for o in qs[:200]
    ]


class EventIn(Schema):
    event_id: str = Field(..., min_length=1, max_length=80)
    camera_id: str = Field(..., min_length=1, max_length=60)
    event_type: str = Field(..., min_length=1, max_length=60)
    occurred_at: datetime
    snapshot_base64: str | None = Field(None, max_length=14_000_000)


@router.post("/events/{source}", auth=None, response={200: dict, 201: dict})
def event_webhook(request, source: str):
    """A signed event (HMAC-SHA256 of the raw body with the source's shared secret, in
    X-Yiwang-Signature: sha256=<hex>). Unsigned or wrongly signed → 401."""
    secret = settings.YIWANG_EVENT_SECRETS.get(source, "")
    if not video.signature_ok(request.body, request.headers.get("X-Yiwang-Signature", ""), secret):
        raise HttpError(401, "missing or wrong signature")
    try:
        data = EventIn.model_validate(json.loads(request.body))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValidationError({"body": ["malformed JSON"]}) from None
    except Exception as exc:  # pydantic's ValidationError: name the first field
        errors = getattr(exc, "errors", lambda: [])()
        field = ".".join(str(p) for p in errors[0]["loc"]) if errors else "body"
        raise ValidationError({field: [errors[0]["msg"] if errors else str(exc)]}) from None
    occurred_at = data.occurred_at
    if timezone.is_naive(occurred_at):
        occurred_at = timezone.make_aware(occurred_at)
    snapshot = None
    if data.snapshot_base64:
        try:
            raw = base64.b64decode(data.snapshot_base64, validate=True)
        except ValueError:
            raise ValidationError({"snapshot_base64": ["not base64"]}) from None
        snapshot = SimpleUploadedFile(f"{data.event_id}.jpg", raw, content_type="image/jpeg")
    result = video.event_receive(
        actor=None,
        event_id=data.event_id,
        camera_id=data.camera_id,
        event_type=data.event_type,
        occurred_at=occurred_at,
        snapshot=snapshot,
    )
    status = 201 if result.created_case else 200
    return Status(
        status,
        {
            "event_id": data.event_id,
            "case_number": result.event.case.number,
            "created_case": result.created_case,
            "replayed": result.replayed,
            "count": result.event.case.video_events.count(),
        },
    )
