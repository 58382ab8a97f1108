"""Open311 GeoReport v2 at /open311/v2/, in XML and JSON, as the specification words it, plus
the extensions deployments rely on: page/page_size on GET requests and FixMyStreet's
servicerequestupdates (both directions).

Identifiers: service_code is a leaf category's code; service_request_id is the case number."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt

from yiwang.cases import events as case_events
from yiwang.cases.models import Case, CaseEvent, Category
from yiwang.cases.services import case_report
from yiwang.cases.states import CLOSED_STATES, Action, Channel, Outcome, State

from .keys import client_for_key, within_rate
from .models import Open311Request, ServiceAttribute

SPEC = "http://wiki.open311.org/GeoReport_v2"
MAX_SPAN = timedelta(days=90)
DEFAULT_LIMIT = 1000
FORMATS = ("xml", "json")


class Open311Error(Exception):
    def __init__(self, status: int, description: str, code: int | None = None):
        super().__init__(description)
        self.status = status
        self.code = code or status
        self.description = description


# -- rendering ---------------------------------------------------------------------------------


def _w3c(value: datetime | None) -> str:
    if value is None:
        return ""
    return timezone.localtime(value).isoformat(timespec="seconds")


def _xml_value(parent: ET.Element, key: str, value) -> None:
    if isinstance(value, list):
        # Plural container, singular children: formats/format, values/value, attributes/attribute.
        singular = {"formats": "format", "values": "value", "attributes": "attribute",
                    "endpoints": "endpoint", "keywords": "keyword"}.get(key, key.rstrip("s"))  # fmt: skip
        container = ET.SubElement(parent, key)
        for item in value:
            _xml_value(container, singular, item)
        return
    element = ET.SubElement(parent, key)
    if isinstance(value, dict):
        for k, v in value.items():
            _xml_value(element, k, v)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


def render(fmt: str, root: str, item: str | None, data, status: int = 200) -> HttpResponse:
    """`data` is a list of `item` elements under `root`, or one object as `root` itself."""
    if fmt == "json":
        return HttpResponse(
            json.dumps(data, ensure_ascii=False),
            status=status,
            content_type="application/json; charset=utf-8",
        )
    top = ET.Element(root)
    if item is None:
        for k, v in data.items():
            _xml_value(top, k, v)
    else:
        for obj in data:
            _xml_value(top, item, obj)
    body = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")
    return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")


def render_error(fmt: str, errors: list[Open311Error]) -> HttpResponse:
    status = errors[0].status
    data = [{"code": e.code, "description": e.description} for e in errors]
    return render(fmt if fmt in FORMATS else "xml", "errors", "error", data, status=status)


def endpoint(view):
    """Format from the suffix, jurisdiction check, and spec-shaped errors for anything raised."""

    @csrf_exempt
    def wrapped(request, fmt: str, **kwargs):
        if fmt not in FORMATS:
            return render_error("xml", [Open311Error(404, f"format {fmt} not supported")])
        try:
            jurisdiction = request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id")
            if jurisdiction and jurisdiction != settings.YIWANG_JURISDICTION_ID:
                raise Open311Error(404, f"jurisdiction_id {jurisdiction} not found")
            return view(request, fmt, **kwargs)
        except Open311Error as exc:
            return render_error(fmt, [exc])
        except ValidationError as exc:
            errors = [
                Open311Error(400, f"{field}: {message}")
                for field, messages in exc.message_dict.items()
                for message in messages
            ]
            return render_error(fmt, errors)

    return wrapped


# -- discovery and services ------------------------------------------------------------------


@endpoint
def discovery(request, fmt):
    if request.method != "GET":
        raise Open311Error(405, "method not allowed", 400)
    base = request.build_absolute_uri("/open311/v2/")
    changeset = "2026-11-30T00:00:00+08:00"
    data = {
        "changeset": changeset,
        "contact": settings.YIWANG_OPEN311_CONTACT,
        "key_service": settings.YIWANG_OPEN311_KEY_SERVICE,
        "endpoints": [
            {
                "specification": SPEC,
                "url": base,
                "changeset": changeset,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render(fmt, "discovery", None, data)


def _service(cat: Category, with_attributes: set[int]) -> dict:
    return {
        "service_code": cat.code,
        "service_name": cat.name,
        "description": cat.description or f"{cat.parent.name} › {cat.name}",
        "metadata": cat.id in with_attributes,
        "type": "realtime",
        "keywords": ",".join(w for w in [cat.parent.name, *cat.keywords.split()] if w),
        "group": cat.parent.name,
    }


def _leaves():
    return Category.objects.filter(is_active=True, parent__isnull=False).select_related("parent")


@endpoint
def services(request, fmt):
    with_attributes = set(ServiceAttribute.objects.values_list("category_id", flat=True))
    return render(
        fmt,
        "services",
        "service",
        [_service(c, with_attributes) for c in _leaves().order_by("order")],
    )


@endpoint
def service_definition(request, fmt, code):
    cat = _leaves().filter(code=code).first()
    if cat is None:
        raise Open311Error(404, f"service_code {code} not found")
    attributes = [
        {
            "variable": a.variable,
            "code": a.code,
            "datatype": a.datatype,
            "required": a.required,
            "datatype_description": a.datatype_description,
            "order": a.order,
            "description": a.description,
            **({"values": a.values} if a.datatype in ("singlevaluelist", "multivaluelist") else {}),
        }
        for a in ServiceAttribute.objects.filter(category=cat)
    ]
    return render(
        fmt, "service_definition", None, {"service_code": cat.code, "attributes": attributes}
    )


# -- requests ----------------------------------------------------------------------------------

FMS_STATUS = {
    State.REPORTED: "OPEN",
    State.ACCEPTED: "OPEN",
    State.DISPATCHED: "IN_PROGRESS",
    State.IN_PROGRESS: "IN_PROGRESS",
    State.RETURNED: "IN_PROGRESS",
    State.ESCALATED: "IN_PROGRESS",
    State.REOPENED: "OPEN",
    State.REPLIED: "ACTION_SCHEDULED",
    State.VERIFIED: "ACTION_SCHEDULED",
}
FMS_OUTCOME = {
    Outcome.SOLVED: "FIXED",
    Outcome.PARTLY: "CLOSED",
    Outcome.UNSOLVABLE: "NO_FURTHER_ACTION",
    Outcome.NOT_OURS: "NOT_COUNCILS_RESPONSIBILITY",
    Outcome.DUPLICATE: "DUPLICATE",
    Outcome.INVALID: "CLOSED",
}


def _status(case: Case) -> str:
    return "closed" if case.state in CLOSED_STATES else "open"


def _status_notes(case: Case) -> str:
    if case.state in CLOSED_STATES:
        parts = [case.get_outcome_display() if case.outcome else "", case.reply, case.outcome_note]
        return ";".join(p for p in parts if p)
    return case.reply or case.get_state_display()


def request_data(case: Case) -> dict:
    media = ""
    photo = case.attachments.first() if hasattr(case, "attachments") else None
    if photo is not None:
        media = settings.YIWANG_PUBLIC_URL.rstrip("/") + photo.file.url
    elif hasattr(case, "open311") and case.open311.media_url:
        media = case.open311.media_url
    address = case.address or (case.building.address if case.building_id else "")
    return {
        "service_request_id": case.number,
        "status": _status(case),
        "status_notes": _status_notes(case),
        "service_name": case.category.name,
        "service_code": case.category.code,
        "description": case.description,
        "agency_responsible": case.department.name if case.department_id else case.street.name,
        "service_notice": "",
        "requested_datetime": _w3c(case.reported_at),
        "updated_datetime": _w3c(
            case.closed_at if case.state in CLOSED_STATES else case.updated_at
        ),
        "expected_datetime": _w3c(case.resolve_due),
        "address": address,
        "address_id": str(case.building_id or ""),
        "zipcode": settings.YIWANG_ZIPCODE,
        "lat": case.lat,
        "long": case.lng,
        "media_url": media,
    }


def _cases():
    return Case.objects.select_related(
        "category", "department", "street", "building", "open311"
    ).prefetch_related("attachments")


def _parse_w3c(name: str, value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value.replace(" ", "+"))
    if parsed is None:
        raise Open311Error(400, f"{name} is not a W3C datetime: {value}")
    if timezone.is_naive(parsed):
        raise Open311Error(400, f"{name} must carry a time zone: {value}")
    return parsed


def _int(name: str, value: str | None, default: int, high: int) -> int:
    if value in (None, ""):
        return default
    try:
        n = int(value)
    except ValueError:
        raise Open311Error(400, f"{name} must be a whole number") from None
    if not 1 <= n <= high:
        raise Open311Error(400, f"{name} must be between 1 and {high}")
    return n


def _list_requests(request, fmt):
    q = request.GET
    qs = _cases()
    ids = [i.strip() for i in (q.get("service_request_id") or "").split(",") if i.strip()]
    if ids:  # overrides every other parameter, as the spec says
        return render(
            fmt, "service_requests", "request", [request_data(c) for c in qs.filter(number__in=ids)]
        )
    codes = [c.strip() for c in (q.get("service_code") or "").split(",") if c.strip()]
    if codes:
        qs = qs.filter(category__code__in=codes)
    end = _parse_w3c("end_date", q.get("end_date")) or timezone.now()
    start = _parse_w3c("start_date", q.get("start_date")) or end - MAX_SPAN
    if start > end:
        raise Open311Error(400, "start_date is after end_date")
    if end - start > MAX_SPAN:
        raise Open311Error(400, "the date span may not exceed 90 days")
    qs = qs.filter(reported_at__gte=start, reported_at__lte=end)
    status = [s.strip() for s in (q.get("status") or "").split(",") if s.strip()]
    if status:
        unknown = set(status) - {"open", "closed"}
        if unknown:
            raise Open311Error(400, f"unknown status {','.join(sorted(unknown))}")
        if status == ["open"]:
            qs = qs.exclude(state__in=CLOSED_STATES)
        elif status == ["closed"]:
            qs = qs.filter(state__in=CLOSED_STATES)
    page = _int("page", q.get("page"), 1, 1_000_000)
    size = _int("page_size", q.get("page_size"), DEFAULT_LIMIT, DEFAULT_LIMIT)
    qs = qs.order_by("-reported_at", "-id")[(page - 1) * size : page * size]
    return render(fmt, "service_requests", "request", [request_data(c) for c in qs])


def _attributes(params) -> dict:
    """attribute[code]=v and attribute[code][]=v1&attribute[code][]=v2."""
    out: dict = {}
    for key in params:
        if not key.startswith("attribute[") or not key.endswith("]"):
            continue
        if key.endswith("[]"):
            code = key[len("attribute[") : -3]
            out[code] = params.getlist(key) if hasattr(params, "getlist") else params[key]
        else:
            out[key[len("attribute[") : -1]] = params.get(key)
    return out


def _post_params(request):
    ctype = request.content_type or ""
    if ctype.startswith("application/json"):
        try:
            data = json.loads(request.body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise Open311Error(400, "malformed JSON body") from None
        if not isinstance(data, dict):
            raise Open311Error(400, "the JSON body must be an object")
        from django.utils.datastructures import MultiValueDict

        flat = MultiValueDict()
        for k, v in data.items():
            if k == "attribute" and isinstance(v, dict):
                for code, value in v.items():
                    if isinstance(value, list):
                        flat.setlist(f"attribute[{code}][]", [str(x) for x in value])
                    else:
                        flat[f"attribute[{code}]"] = str(value)
            elif v is not None:
                flat[k] = str(v) if not isinstance(v, str) else v
        return flat
    if ctype.startswith(("text/xml", "application/xml")):
        try:
            root = ET.fromstring(request.body)
        except ET.ParseError:
            raise Open311Error(400, "malformed XML body") from None
        from django.utils.datastructures import MultiValueDict

        flat = MultiValueDict()
        for child in root:
            flat[child.tag] = (child.text or "").strip()
        return flat
    return request.POST


def _float(name: str, value: str | None) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError:
        raise Open311Error(400, f"{name} must be a number") from None


def _create_request(request, fmt):
    params = _post_params(request)
    client = client_for_key(params.get("api_key") or request.headers.get("X-Api-Key"))
    if client is None:
        raise Open311Error(403, "api_key missing or invalid")
    if not within_rate(client):
        raise Open311Error(429, "rate limit exceeded for this api_key", 429)
    code = (params.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, "service_code is required")
    category = _leaves().filter(code=code).first()
    if category is None:
        raise Open311Error(404, f"service_code {code} not found")
    lat, lng = _float("lat", params.get("lat")), _float("long", params.get("long"))
    address = (params.get("address_string") or "").strip()
    address_id = (params.get("address_id") or "").strip()
    if (lat is None) != (lng is None):
        raise Open311Error(400, "lat and long go together")
    if lat is not None and not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise Open311Error(400, "lat/long out of range")
    if address_id and not address:
        from yiwang.org.models import Building

        building = Building.objects.filter(id=address_id if address_id.isdigit() else -1).first()
        if building is None:
            raise Open311Error(400, f"address_id {address_id} not found")
        address = building.address
        lat, lng = lat or building.lat, lng or building.lng
    if lat is None and not address:
        raise Open311Error(400, "a location is required: lat & long, address_string or address_id")
    attributes = _attributes(params)
    for attr in ServiceAttribute.objects.filter(category=category):
        value = attributes.get(attr.code)
        if attr.required and value in (None, "", []):
            raise Open311Error(400, f"attribute[{attr.code}] is required")
        keys = {v.get("key") for v in attr.values}
        given = value if isinstance(value, list) else [value] if value not in (None, "") else []
        if keys and any(v not in keys for v in given):
            raise Open311Error(400, f"attribute[{attr.code}] has a value not in its list")
    description = (params.get("description") or "").strip()
    if len(description) > 4000:
        raise Open311Error(400, "description may not exceed 4000 characters")
    name = " ".join(p for p in (params.get("last_name"), params.get("first_name")) if p)
    title = description.split("\n")[0][:60] or category.name
    with transaction.atomic():
        case = case_report(
            actor=None,
            channel=Channel.RESIDENT,
            category=category,
            title=title,
            description=description,
            address=address,
            lat=lat,
            lng=lng,
            reporter_name=name[:40],
            reporter_phone=(params.get("phone") or "")[:20],
            idempotency_key=(
                f"open311:{client.id}:{request.headers['Idempotency-Key']}"
                if request.headers.get("Idempotency-Key")
                else None
            ),
        )
        record, created = Open311Request.objects.get_or_create(
            case=case,
            defaults={
                "client": client,
                "token": secrets.token_hex(12),
                "attributes": attributes,
                "account_id": (params.get("account_id") or "")[:80],
                "device_id": (params.get("device_id") or "")[:80],
                "email": (params.get("email") or "")[:120],
                "media_url": (params.get("media_url") or "")[:500],
            },
        )
    data = [
        {
            "service_request_id": case.number,
            "service_notice": settings.YIWANG_OPEN311_NOTICE,
            "account_id": record.account_id,
        }
    ]
    return render(fmt, "service_requests", "request", data, status=201 if created else 200)


@endpoint
def requests_view(request, fmt):
    if request.method == "POST":
        return _create_request(request, fmt)
    return _list_requests(request, fmt)


@endpoint
def request_detail(request, fmt, request_id):
    case = _cases().filter(number=request_id).first()
    if case is None:
        raise Open311Error(404, f"service_request_id {request_id} not found")
    return render(fmt, "service_requests", "request", [request_data(case)])


@endpoint
def token_detail(request, fmt, token):
    record = Open311Request.objects.select_related("case").filter(token=token).first()
    if record is None:
        raise Open311Error(404, f"token {token} not found")
    return render(
        fmt,
        "service_requests",
        "request",
        [{"service_request_id": record.case.number, "token": record.token}],
    )


# -- FixMyStreet's servicerequestupdates -------------------------------------------------------

UPDATE_ACTIONS = [
    Action.ACCEPT, Action.DISPATCH, Action.START, Action.REPLY, Action.CLOSE,
    Action.REJECT, Action.MERGE, Action.REOPEN, Action.ESCALATE, Action.NOTE,
]  # fmt: skip


def _update_status(event: CaseEvent) -> str:
    case = event.case
    if event.to_state == State.CLOSED or event.action in (Action.REJECT, Action.MERGE):
        return FMS_OUTCOME.get(case.outcome, "CLOSED")
    return FMS_STATUS.get(event.to_state or case.state, "OPEN")


@endpoint
def service_request_updates(request, fmt):
    if request.method == "POST":
        params = _post_params(request)
        client = client_for_key(params.get("api_key") or request.headers.get("X-Api-Key"))
        if client is None:
            raise Open311Error(403, "api_key missing or invalid")
        number = (params.get("service_request_id") or "").strip()
        case = Case.objects.filter(number=number).first()
        if case is None:
            raise Open311Error(404, f"service_request_id {number} not found")
        description = (params.get("description") or "").strip()
        if not description:
            raise Open311Error(400, "description is required")
        who = " ".join(p for p in (params.get("last_name"), params.get("first_name")) if p)
        event = case_events.record(
            case,
            actor=None,
            action=Action.NOTE,
            note=description[:2000],
            data={
                "source": f"open311:{client.name}",
                "update_id": params.get("update_id", ""),
                "status": params.get("status", ""),
                "who": who,
            },
        )
        return render(
            fmt, "service_request_updates", "request_update", [{"update_id": str(event.id)}]
        )
    q = request.GET
    end = _parse_w3c("end_date", q.get("end_date")) or timezone.now()
    start = _parse_w3c("start_date", q.get("start_date")) or end - timedelta(days=1)
    if end - start > MAX_SPAN or start > end:
        raise Open311Error(400, "start_date/end_date must span 0 to 90 days")
    events = (
        CaseEvent.objects.filter(
            created_at__gte=start, created_at__lte=end, action__in=UPDATE_ACTIONS
        )
        # has_key first: for events without a source the LIKE alone is NULL, and NOT NULL drops them.
        .exclude(Q(data__has_key="source") & Q(data__source__startswith="open311:"))
        .select_related("case")
        .order_by("created_at", "id")[:DEFAULT_LIMIT]
    )
    data = [
        {
            "update_id": str(e.id),
            "service_request_id": e.case.number,
            "status": _update_status(e),
            "updated_datetime": _w3c(e.created_at),
            "description": e.note if e.action != Action.NOTE or not e.data.get("who") else e.note,
            "media_url": "",
        }
        for e in events
    ]
    return render(fmt, "service_request_updates", "request_update", data)
