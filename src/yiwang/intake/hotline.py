"""The 12345 hotline: call summaries in (endpoint and file drop), replies back out.

A call summary becomes a case in its grid, routed by address → street → that street's
law-enforcement squad (综合行政执法中队), or to the category's owning department. When the case
is replied, the reply is queued in the outbox in the same transaction and pushed to the hotline
system by the worker, with backoff, until the hotline acknowledges it."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from yiwang.cases.models import Case, Category
from yiwang.cases.services import case_accept, case_dispatch, case_report
from yiwang.cases.states import Channel, Level
from yiwang.org.models import Department

from .models import HotlineTicket, Outbox

log = logging.getLogger(__name__)

DEFAULT_CATEGORY = "QT01"


@dataclass
class TicketIn:
    ticket_no: str
    called_at: datetime
    caller: str
    phone: str
    address: str
    content: str
    wants_reply: bool = True
    category_code: str = ""


@dataclass
class TicketResult:
    ticket: HotlineTicket
    created: bool
    routed_to: str = ""
    problems: list[str] = field(default_factory=list)


def classify(text: str) -> Category:
    """The leaf category whose name or keywords the content mentions most; else 其他."""
    best, score = None, 0
    for cat in Category.objects.filter(is_active=True, parent__isnull=False):
        words = [cat.name, *[w for w in cat.keywords.replace(",", " ").split() if w]]
        hits = sum(text.count(w) for w in words if len(w) >= 2)
        if hits > score:
            best, score = cat, hits
    return best or Category.objects.get(code=DEFAULT_CATEGORY)


def route(case: Case) -> Department | None:
    """The category's department, else the street unit the category names (default: the
    street's law-enforcement squad)."""
    if case.category.department_id:
        return case.category.department
    suffix = case.category.street_unit_suffix or "ZF"
    return Department.objects.filter(
        street_id=case.street_id, code=f"{case.street.code}{suffix}", is_active=True
    ).first()


def ticket_receive(*, actor, data: TicketIn) -> TicketResult:
    """Idempotent on the ticket number: a replayed ticket returns the first one untouched."""
    existing = HotlineTicket.objects.filter(ticket_no=data.ticket_no).first()
    if existing is not None:
        return TicketResult(existing, created=False)
    if data.category_code:
        category = Category.objects.filter(code=data.category_code, is_active=True).first()
        if category is None:
            category = classify(data.content)
    else:
        category = classify(data.content)
    with transaction.atomic():
        ticket = HotlineTicket.objects.create(
            ticket_no=data.ticket_no,
            called_at=data.called_at,
            caller=data.caller,
            phone=data.phone,
            address=data.address,
            content=data.content,
            wants_reply=data.wants_reply,
            raw={
                "caller": data.caller,
                "address": data.address,
                "content": data.content,
                "category": data.category_code,
            },
        )
        result = TicketResult(ticket, created=True)
        _make_case(ticket, category, result)
    return result


def _make_case(ticket: HotlineTicket, category: Category, result: TicketResult) -> None:
    from django.core.exceptions import ValidationError

    title = ticket.content.split("。")[0][:60] or _("12345来电")
    try:
        with transaction.atomic():
            case = case_report(
                actor=None,
                channel=Channel.HOTLINE,
                category=category,
                title=title,
                description=ticket.content,
                address=ticket.address,
                reporter_name=ticket.caller,
                reporter_phone=ticket.phone,
                wants_reply=ticket.wants_reply,
                external_id=ticket.ticket_no,
                reported_at=ticket.called_at,
                first_level=Level.STREET,
            )
    except ValidationError as exc:
        message = "; ".join(m for ms in exc.message_dict.values() for m in ms)
        ticket.problem = message[:300]
        ticket.save(update_fields=["problem"])
        result.problems.append(message)
        return
    ticket.case = case
    ticket.problem = ""
    ticket.save(update_fields=["case", "problem"])
    lead = route(case)
    if lead is not None:
        case = case_accept(
            actor=None, case=case, note=_("12345工单 %(t)s") % {"t": ticket.ticket_no}
        )
        case_dispatch(actor=None, case=case, lead=lead, note=_("按地址自动派单"))
        result.routed_to = lead.name


def ticket_place(*, actor, ticket: HotlineTicket, address: str) -> TicketResult:
    """A desk gives a waiting ticket an address it can place; then it becomes a case."""
    if ticket.case_id:
        return TicketResult(ticket, created=False)
    ticket.address = address
    ticket.save(update_fields=["address"])
    result = TicketResult(ticket, created=False)
    with transaction.atomic():
        _make_case(ticket, classify(ticket.content), result)
    return result


# -- file drop -----------------------------------------------------------------------------

COLUMNS = {
    "工单编号": "ticket_no",
    "来电时间": "called_at",
    "来电人": "caller",
    "联系电话": "phone",
    "地址": "address",
    "来电内容": "content",
    "是否需要答复": "wants_reply",
    "类别": "category_code",
}
REQUIRED = ("工单编号", "来电时间", "地址", "来电内容")


@dataclass
class FileReport:
    total: int = 0
    created: int = 0
    replayed: int = 0
    waiting: int = 0
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # row, column, message

    def as_dict(self):
        return self.__dict__


def _parse_time(text: str) -> datetime | None:
    text = text.strip().replace("/", "-")
    value = parse_datetime(text) or parse_datetime(text.replace(" ", "T"))
    if value is None:
        try:
            value = datetime.strptime(text, "%Y-%m-%d %H:%M")
        except ValueError:
            return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def tickets_import(*, actor, path: str | Path, commit: bool = False) -> FileReport:
    """A hotline export (xlsx/csv). Checks every row first; commits the good rows when asked."""
    from yiwang.common.tables import TableError, read_table

    report = FileReport()
    try:
        table = read_table(path, expected_headers=set(COLUMNS))
    except TableError as exc:
        report.problems.append((0, "file", str(exc)))
        return report
    missing = [c for c in REQUIRED if c not in table.headers]
    if missing:
        report.problems.append((table.header_row, "、".join(missing), _("缺少必需的列")))
        return report
    good: list[TicketIn] = []
    seen: set[str] = set()
    for number, row in table.rows:
        report.total += 1
        values = {COLUMNS[k]: v for k, v in row.items() if k in COLUMNS}
        bad = False
        for column in REQUIRED:
            if not row.get(column):
                report.problems.append((number, column, _("为空")))
                bad = True
        if bad:
            continue
        called_at = _parse_time(values["called_at"])
        if called_at is None:
            report.problems.append(
                (number, "来电时间", _("无法识别的时间 %(v)s") % {"v": values["called_at"]})
            )
            continue
        if values["ticket_no"] in seen:
            report.problems.append((number, "工单编号", _("文件内重复")))
            continue
        seen.add(values["ticket_no"])
        good.append(
            TicketIn(
                ticket_no=values["ticket_no"],
                called_at=called_at,
                caller=values.get("caller", ""),
                phone=values.get("phone", "").replace(" ", ""),
                address=values["address"],
                content=values["content"],
                wants_reply=values.get("wants_reply", "是") not in ("否", "0", "false", "N"),
                category_code=values.get("category_code", ""),
            )
        )
    if not commit:
        return report
    for item in good:
        result = ticket_receive(actor=actor, data=item)
        if not result.created:
            report.replayed += 1
        elif result.ticket.case_id is None:
            report.waiting += 1
        else:
            report.created += 1
    return report


# -- replies back to the hotline -------------------------------------------------------------


def queue_reply(case: Case) -> None:
    """Registered as a cases reply hook: runs in the reply's transaction."""
    ticket = HotlineTicket.objects.filter(case=case).first()
    if ticket is None:
        return
    unit = case.department.name if case.department_id else case.street.name
    Outbox.objects.create(
        case=case,
        target="hotline",
        payload={
            "ticket_no": ticket.ticket_no,
            "case_number": case.number,
            "reply_unit": unit,
            "reply": case.reply,
            "replied_at": case.replied_at.isoformat(),
        },
        next_attempt_at=timezone.now(),
    )


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(10 * 2 ** max(attempts - 1, 0), 900))


def deliver(item: Outbox, now: datetime) -> bool:
    import requests

    url = settings.YIWANG_HOTLINE_REPLY_URL
    if not url:
        return False
    body = json.dumps(item.payload, ensure_ascii=False).encode()
    try:
        response = requests.post(
            url,
            data=body,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "X-Yiwang-Signature": sign(body, settings.YIWANG_HOTLINE_SECRET),
            },
            timeout=5,
        )
        ok = 200 <= response.status_code < 300
        error = "" if ok else f"HTTP {response.status_code}"
    except requests.RequestException as exc:
        ok, error = False, type(exc).__name__ + ": " + str(exc)[:200]
    item.attempts += 1
    if ok:
        item.status, item.delivered_at, item.last_error = Outbox.Status.DELIVERED, now, ""
    else:
        item.status, item.last_error = Outbox.Status.FAILED, error[:300]
        item.next_attempt_at = now + backoff(item.attempts)
    item.save(update_fields=["attempts", "status", "delivered_at", "last_error", "next_attempt_at"])
    return ok


def outbox_tick(now: datetime | None = None) -> dict:
    """Sends what is due. Rows are locked with SKIP LOCKED on PostgreSQL, so several workers
    never send one reply twice at once."""
    now = now or timezone.now()
    sent = failed = 0
    if not settings.YIWANG_HOTLINE_REPLY_URL:
        return {"sent": 0, "failed": 0}
    with transaction.atomic():
        due = Outbox.objects.filter(
            status__in=[Outbox.Status.PENDING, Outbox.Status.FAILED], next_attempt_at__lte=now
        ).order_by("next_attempt_at")
        from django.db import connection

        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        for item in list(due[:100]):
            if deliver(item, now):
                sent += 1
            else:
                failed += 1
    return {"sent": sent, "failed": failed}
