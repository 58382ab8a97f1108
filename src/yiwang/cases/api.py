"""Cases over JSON: parse, guard (case_access), call a service, shape."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import File, Router, Status, UploadedFile

from yiwang.org.models import Department

from . import policy, services, wall
from .models import Assignment, Case, Category, WallPost
from .rates import Where, all_rates
from .schemas import (
    ActionIn,
    CaseDetailOut,
    CaseIn,
    CaseSummaryOut,
    CategoryOut,
    NearbyOut,
    RatesOut,
    RatingIn,
    WallPostOut,
    WallReviewIn,
)
from .selectors import (
    case_access,
    case_by_number,
    case_list,
    case_queue,
    my_reports,
    nearby_open,
    queue_counts,
)
from .states import TRANSITIONS, Action, Outcome, State, allowed_actions

router = Router(tags=["cases"])
wall_router = Router(tags=["wall"])


def summary(case: Case) -> dict:
    return {
        "id": case.id,
        "number": case.number,
        "title": case.title,
        "category": str(case.category),
        "state": case.state,
        "state_label": case.get_state_display(),
        "mode": case.mode,
        "mode_label": case.get_mode_display(),
        "level": case.level,
        "grid_code": case.grid.code,
        "grid_name": case.grid.name,
        "reported_at": case.reported_at,
        "resolve_due": case.resolve_due,
        "is_overdue": case.is_overdue,
        "outcome": case.outcome,
        "department": case.department.name if case.department_id else None,
    }


def actions_for(actor, case: Case) -> list[str]:
    return [a for a in allowed_actions(case.state) if policy.can(actor, a, case)]


def detail(actor, case: Case) -> dict:
    handler = policy.desk_level(actor, case) is not None or policy.assignment_of(actor, case)
    reporter = case.reporter_name or ("匿名" if case.anonymous else "")
    return {
        **summary(case),
        "channel": case.channel,
        "description": case.description,
        "address": case.address,
        "lat": case.lat,
        "lng": case.lng,
        "reporter": reporter
        if (handler or policy.is_reporter(actor, case))
        else wall.anonymous_name(case),
        # Contact stays private: only handlers see it, never other residents.
        "reporter_phone": case.reporter_phone if handler else "",
        "response_due": case.response_due,
        "responded_at": case.responded_at,
        "replied_at": case.replied_at,
        "closed_at": case.closed_at,
        "reply": case.reply,
        "outcome_label": case.get_outcome_display() if case.outcome else "",
        "outcome_note": case.outcome_note,
        "transferred_to": case.transferred_to,
        "satisfaction": case.satisfaction,
        "reopen_count": case.reopen_count,
        "duplicate_of": case.duplicate_of.number if case.duplicate_of_id else None,
        "leader": (case.leader.get_full_name() or case.leader.username) if case.leader_id else None,
        "version": case.version,
        "events": [
            {
                "action": e.action,
                "action_label": e.get_action_display(),
                "actor": e.actor_label,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "note": e.note,
                "data": e.data,
                "created_at": e.created_at,
            }
            for e in case.events.all()
        ],
        "assignments": [
            {
                "id": a.id,
                "department_id": a.department_id,
                "department": a.department.name,
                "role": a.role,
                "status": a.status,
                "status_label": a.get_status_display(),
                "checkin_due": a.checkin_due,
                "checked_in_at": a.checked_in_at,
                "done_at": a.done_at,
                "report": a.report,
                "return_reason": a.return_reason,
            }
            for a in case.assignments.select_related("department")
        ],
        "allowed_actions": actions_for(actor, case),
        "photos": [a.file.url for a in case.attachments.all()],
    }


@router.get("/categories", response=list[CategoryOut], auth=None)
def categories(request):
    return list(Category.objects.filter(is_active=True))


@router.post("", response={201: CaseDetailOut})
def report(request, data: CaseIn):
    category = Category.objects.filter(id=data.category_id, is_active=True).first()
    if category is None:
        from django.core.exceptions import ValidationError

        raise ValidationError({"category_id": ["未知类别"]})
    key = data.idempotency_key or request.headers.get("Idempotency-Key")
    case = services.case_report(
        actor=request.user,
        channel=data.channel,
        category=category,
        title=data.title,
        description=data.description,
        address=data.address,
        lat=data.lat,
        lng=data.lng,
        reporter_name=data.reporter_name,
        reporter_phone=data.reporter_phone,
        anonymous=data.anonymous,
        wants_reply=data.wants_reply,
        idempotency_key=key,
    )
    return Status(201, detail(request.user, case_access(actor=request.user, case_id=case.id)))


@router.get("", response=list[CaseSummaryOut])
def list_cases(
    request,
    state: str | None = None,
    open_only: bool = False,
    overdue: bool | None = None,
    category_id: int | None = None,
    grid_id: int | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
):
    qs = case_list(
        actor=request.user,
        state=state,
        open_only=open_only,
        overdue=overdue,
        category_id=category_id,
        grid_id=grid_id,
        text=q,
    ).order_by("-reported_at", "-id")
    limit = max(1, min(limit, 200))
    return [summary(c) for c in qs[offset : offset + limit]]


@router.get("/queue")
def queue(request, limit: int = 50):
    cases = case_queue(actor=request.user)[: max(1, min(limit, 200))]
    return {
        "counts": queue_counts(actor=request.user),
        "cases": [summary(c) for c in cases],
    }


@router.get("/mine", response=list[CaseSummaryOut])
def mine(request):
    return [summary(c) for c in my_reports(actor=request.user).select_related("grid")[:100]]


@router.get("/nearby", response=list[NearbyOut])
def nearby(request, category_id: int, lat: float, lng: float):
    category = get_object_or_404(Category, id=category_id)
    return [
        {
            "id": c.id,
            "number": c.number,
            "title": c.title,
            "state_label": c.get_state_display(),
            "distance_m": c.distance_m,
            "reported_at": c.reported_at,
        }
        for c in nearby_open(category=category, lat=lat, lng=lng)
    ]


@router.get("/rates", response=RatesOut)
def rates(
    request,
    street_id: int | None = None,
    community_id: int | None = None,
    grid_id: int | None = None,
    department_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
):
    from django.core.exceptions import PermissionDenied, ValidationError

    from yiwang.org.selectors import scope_for

    scope = scope_for(request.user)
    if scope.is_empty and not scope.department_ids:
        raise PermissionDenied("rates")
    if not scope.everything:
        if not (street_id or community_id or grid_id or department_id):
            raise ValidationError({"street_id": ["请指定统计范围"]})
        if not _rates_in_scope(scope, street_id, community_id, grid_id, department_id):
            raise PermissionDenied("rates")
    end = end or timezone.now()
    start = start or end - timedelta(days=30)
    if start >= end:
        raise ValidationError({"start": ["开始时间须早于结束时间"]})
    return all_rates(Where(street_id, community_id, grid_id, department_id), start, end)


def _rates_in_scope(scope, street_id, community_id, grid_id, department_id) -> bool:
    """A desk may see the figures of its own node and below; a department its own."""
    from yiwang.org.models import Community, Grid

    if department_id and department_id not in scope.department_ids:
        return False
    if street_id and street_id not in scope.street_ids:
        return False
    if community_id:
        community = Community.objects.filter(id=community_id).first()
        if community is None or not (
            community.id in scope.community_ids or community.street_id in scope.street_ids
        ):
            return False
    if grid_id:
        grid = Grid.objects.filter(id=grid_id).first()
        if grid is None or not scope.covers_grid(grid):
            return False
    return True


@router.get("/by-number/{number}", response=CaseDetailOut)
def by_number(request, number: str):
    return detail(request.user, case_by_number(actor=request.user, number=number))


@router.get("/{case_id}", response=CaseDetailOut)
def get_case(request, case_id: int):
    return detail(request.user, case_access(actor=request.user, case_id=case_id))


def _departments(ids: list[int]) -> list[Department]:
    found = {d.id: d for d in Department.objects.filter(id__in=ids, is_active=True)}
    missing = [i for i in ids if i not in found]
    if missing:
        from django.core.exceptions import ValidationError

        raise ValidationError({"assist_ids": [f"未知部门 {missing}"]})
    return [found[i] for i in ids]


def run_action(actor, case: Case, action: str, data: ActionIn) -> Case:
    """One place mapping an action name and its inputs to the service; pages use it too."""
    v = data.expected_version
    if action == Action.ACCEPT:
        return services.case_accept(actor=actor, case=case, note=data.note, expected_version=v)
    if action == Action.REJECT:
        original = None
        if data.duplicate_of:
            original = case_by_number(actor=actor, number=data.duplicate_of.strip())
        return services.case_reject(
            actor=actor,
            case=case,
            outcome=data.outcome or (Outcome.DUPLICATE if original else Outcome.INVALID),
            reason=data.reason or data.note,
            duplicate_of=original,
            expected_version=v,
        )
    if action == Action.DISPATCH:
        lead = _departments([data.lead_id])[0] if data.lead_id else None
        return services.case_dispatch(
            actor=actor,
            case=case,
            lead=lead,
            assists=_departments(data.assist_ids),
            to_level=data.to_level,
            mode=data.mode,
            note=data.note,
            expected_version=v,
        )
    if action == Action.CHECK_IN:
        services.case_check_in(actor=actor, case=case, note=data.note)
        return case
    if action == Action.START:
        return services.case_start(actor=actor, case=case, note=data.note, expected_version=v)
    if action == Action.RETURN:
        return services.case_return(
            actor=actor, case=case, reason=data.reason or data.note, expected_version=v
        )
    if action == Action.ESCALATE:
        return services.case_escalate(
            actor=actor, case=case, reason=data.reason or data.note, expected_version=v
        )
    if action == Action.PART_DONE:
        services.case_part_done(actor=actor, case=case, report=data.note or data.reply)
        return case
    if action == Action.REPLY:
        return services.case_reply(actor=actor, case=case, reply=data.reply, expected_version=v)
    if action in (Action.VERIFY, Action.VERIFY_FAIL):
        return services.case_verify(
            actor=actor, case=case, ok=action == Action.VERIFY, note=data.note, expected_version=v
        )
    if action == Action.CLOSE:
        return services.case_close(
            actor=actor,
            case=case,
            outcome=data.outcome,
            note=data.note,
            transferred_to=data.transferred_to,
            expected_version=v,
        )
    if action == Action.RATE:
        return services.case_rate(
            actor=actor, case=case, satisfaction=data.satisfaction, note=data.note
        )
    if action == Action.REOPEN:
        return services.case_reopen(actor=actor, case=case, reason=data.reason or data.note)
    if action == Action.MERGE:
        into = case_by_number(actor=actor, number=(data.duplicate_of or "").strip())
        return services.case_merge(actor=actor, case=case, into=into, note=data.note)
    if action == Action.TAKE:
        return services.case_take(actor=actor, case=case, note=data.note)
    raise Http404


@router.post("/{case_id}/actions/{action}", response=CaseDetailOut)
def act(request, case_id: int, action: str, data: ActionIn):
    """Every transition: 409 with the current state and the allowed next steps when the state
    does not allow it or someone changed the case first."""
    if action not in TRANSITIONS:
        raise Http404
    case = case_access(actor=request.user, case_id=case_id)
    run_action(request.user, case, action, data)
    return detail(request.user, case_access(actor=request.user, case_id=case_id))


@router.post("/{case_id}/photos", response={201: dict})
def upload_photo(request, case_id: int, photo: UploadedFile = File(...)):
    from .photos import attach_photo

    case = case_access(actor=request.user, case_id=case_id)
    if not (policy.can_see(request.user, case) and case.state != State.CLOSED):
        raise Http404
    attachment = attach_photo(actor=request.user, case=case, upload=photo, kind="before")
    return Status(
        201,
        {
            "id": attachment.id,
            "url": attachment.file.url,
            "exif_lat": attachment.exif_lat,
            "exif_lng": attachment.exif_lng,
        },
    )


@router.post("/{case_id}/assignments/{assignment_id}/rating", response={201: dict})
def rate_assignment(request, case_id: int, assignment_id: int, data: RatingIn):
    case = case_access(actor=request.user, case_id=case_id)
    assignment = get_object_or_404(Assignment, id=assignment_id, case=case)
    rating = services.assignment_rate(
        actor=request.user,
        assignment=assignment,
        direction=data.direction,
        score=data.score,
        note=data.note,
    )
    return Status(201, {"id": rating.id, "score": rating.score})


@router.post("/{case_id}/wall", response={201: WallPostOut})
def propose_wall(request, case_id: int):
    case = case_access(actor=request.user, case_id=case_id)
    post = wall.wall_propose(actor=request.user, case=case)
    return Status(201, _wall_out(post))


def _wall_out(post: WallPost) -> dict:
    return {
        "id": post.id,
        "headline": post.headline,
        "summary": post.summary,
        "reply_unit": post.reply_unit,
        "reply": post.reply,
        "street": post.street.name,
        "category": str(post.category),
        "published_at": post.published_at,
    }


@wall_router.get("", response=list[WallPostOut], auth=None)
def wall_list(
    request,
    street_id: int | None = None,
    category_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
):
    """回音壁: public, no login."""
    qs = wall.wall_list(street_id=street_id, category_id=category_id)
    limit = max(1, min(limit, 200))
    return [_wall_out(p) for p in qs[offset : offset + limit]]


@wall_router.post("/{post_id}/review", response=WallPostOut)
def wall_review(request, post_id: int, data: WallReviewIn):
    post = get_object_or_404(WallPost.objects.select_related("case"), id=post_id)
    if not policy.can_see(request.user, post.case):
        raise Http404
    post = wall.wall_review(
        actor=request.user, post=post, approve=data.approve, summary=data.summary, reply=data.reply
    )
    return _wall_out(post)
