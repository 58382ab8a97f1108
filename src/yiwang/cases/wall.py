"""回音壁, the public reply wall: a closed case's complaint, anonymised, beside the unit's reply,
published only after a reviewer approves the redaction."""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from . import events, policy
from .models import Case, WallPost
from .states import LEVEL_ORDER, Action, Level, Outcome, State

PHONE = re.compile(
    r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)|(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)"
)
ID_NUMBER = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])|(?<!\d)\d{15}(?!\d)")
ROOM = re.compile(r"(\d+)(号楼|栋|幢)?(\d+)单元(\d+)(室|户)?|(?<![\d号])(\d{3,4})(室|户)")


def anonymous_name(case: Case) -> str:
    """市民刘先生: the surname and title as the hotline records them, never the full name."""
    name = (case.reporter_name or "").strip()
    if case.anonymous or not name:
        return _("市民")
    for title in ("先生", "女士"):
        if name.endswith(title):
            return _("市民") + name[0] + title
    return _("市民") + name[0] + _("某")


def redact(text: str, case: Case) -> str:
    """Phone and ID numbers never shown; the reporter's full name replaced; rooms hidden. House
    numbers on roads stay: the problem's place is the point of the wall."""
    text = ID_NUMBER.sub("****", text or "")
    text = PHONE.sub("****", text)
    if case.reporter_name and len(case.reporter_name) >= 2:
        text = text.replace(case.reporter_name, anonymous_name(case).removeprefix(_("市民")))
    text = ROOM.sub(_("某室"), text)
    return text


def can_review(actor, case: Case) -> bool:
    level = policy.desk_level(actor, case)
    return level is not None and LEVEL_ORDER.index(level) >= LEVEL_ORDER.index(Level.STREET)


def wall_propose(*, actor, case: Case, headline: str = "", reply_unit: str = "") -> WallPost:
    if case.state != State.CLOSED:
        raise ValidationError({"case": [_("只有已办结的事件可以上回音壁")]})
    if case.outcome in (Outcome.INVALID, Outcome.DUPLICATE):
        raise ValidationError({"case": [_("无效件、重复件不上回音壁")]})
    if not (policy.desk_level(actor, case) or policy.lead_department_acts(actor, case)):
        raise PermissionDenied("wall_propose")
    unit = reply_unit or (case.department.name if case.department_id else case.street.name)
    headline = headline or f"{case.title}{_('问题已得到处理')}"
    summary = f"{anonymous_name(case)}{_('反映')}:{redact(case.description or case.title, case)}"
    with transaction.atomic():
        post, _created = WallPost.objects.update_or_create(
            case=case,
            defaults={
                "headline": redact(headline, case)[:120],
                "summary": summary,
                "reply_unit": unit,
                "reply": redact(case.reply, case),
                "street_id": case.street_id,
                "category_id": case.category_id,
                "status": WallPost.Status.PROPOSED,
                "proposed_by": actor,
            },
        )
        events.record(case, actor=actor, action=Action.NOTE, note=_("提交回音壁审核"))
    return post


def wall_review(
    *, actor, post: WallPost, approve: bool, summary: str | None = None, reply: str | None = None
) -> WallPost:
    """The reviewer may correct the redaction before publishing; what they publish is checked
    again for phone and ID numbers."""
    if not can_review(actor, post.case):
        raise PermissionDenied("wall_review")
    texts = {
        "summary": post.summary if summary is None else summary,
        "reply": post.reply if reply is None else reply,
    }
    for field, value in texts.items():
        if PHONE.search(value) or ID_NUMBER.search(value):
            raise ValidationError({field: [_("仍含有电话或身份证号,请删除后发布")]})
    post.summary, post.reply = texts["summary"], texts["reply"]
    post.status = WallPost.Status.PUBLISHED if approve else WallPost.Status.WITHDRAWN
    post.reviewed_by = actor
    post.published_at = timezone.now() if approve else None
    post.save(update_fields=["summary", "reply", "status", "reviewed_by", "published_at"])
    return post


def wall_pending(*, actor) -> QuerySet:
    """Proposed posts this actor may review (street desks and above, within their streets)."""
    from yiwang.org.selectors import scope_for

    scope = scope_for(actor)
    qs = WallPost.objects.filter(status=WallPost.Status.PROPOSED).select_related(
        "case", "street", "category"
    )
    if scope.everything:
        return qs.order_by("id")
    return qs.filter(street_id__in=sorted(scope.street_ids)).order_by("id")


def wall_list(*, street_id: int | None = None, category_id: int | None = None) -> QuerySet:
    """Public: no login, published posts only, newest first."""
    qs = WallPost.objects.filter(status=WallPost.Status.PUBLISHED).select_related(
        "street", "category", "category__parent"
    )
    if street_id:
        qs = qs.filter(street_id=street_id)
    if category_id:
        qs = qs.filter(category_id=category_id) | qs.filter(category__parent_id=category_id)
    return qs.order_by("-published_at", "-id")
