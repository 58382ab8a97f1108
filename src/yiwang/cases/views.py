"""Case pages: the desk queue, one case with its actions, the report form, my reports, the
public reply wall and its review. Views only orchestrate: parse (forms), guard (selectors),
change (services, through `api.run_action` so actions map to services in one place), render.
htmx requests get the fragment they swap; plain requests get whole pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from pydantic import ValidationError as SchemaError

from yiwang.org.models import District
from yiwang.org.selectors import scope_for

from . import api, policy, services, wall
from .errors import CaseConflict
from .forms import (
    ActionForm,
    NearbyForm,
    QueueFilterForm,
    RateForm,
    ReportForm,
    WallFilterForm,
    WallReviewForm,
    error_summary,
    put_service_errors,
)
from .models import Assignment, Case, WallPost
from .photos import attach_photo
from .schemas import ActionIn
from .selectors import case_access, case_list, my_reports, nearby_open, queue_counts
from .states import OPEN_STATES, TRANSITIONS, Action, Channel, Level, Mode, Outcome, State

PAGE_SIZE = 20
SESSION_REPORTED = "cases_reported"


def _htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _state_label(value: str) -> str:
    return State(value).label if value in State.values else value


# -- desk queue -----------------------------------------------------------------------------


def _desk_order(actor, qs):
    """Overdue first, then by deadline; for department staff, assignments still waiting for
    their check-in (报到) come before everything."""
    departments = scope_for(actor).department_ids
    qs = qs.select_related("category__parent")
    if not departments:
        return qs.order_by("-is_overdue", "resolve_due", "id")
    pending = Assignment.objects.filter(
        case=OuterRef("pk"),
        department_id__in=sorted(departments),
        status=Assignment.Status.PENDING,
    )
    return qs.annotate(my_pending=Exists(pending)).order_by(
        "-my_pending", "-is_overdue", "resolve_due", "id"
    )


@login_required
@require_GET
def queue(request):
    form = QueueFilterForm(request.GET or None)
    f = form.cleaned_data if form.is_valid() else {}
    qs = case_list(
        actor=request.user,
        state=f.get("state") or None,
        open_only=True,
        overdue=True if f.get("overdue") else None,
        category_id=f.get("category"),
        text=(f.get("q") or "").strip() or None,
    )
    page = Paginator(_desk_order(request.user, qs), PAGE_SIZE).get_page(f.get("page") or 1)
    counts = queue_counts(actor=request.user)
    chips = [
        {"state": s.value, "label": s.label, "n": counts.get(s.value, 0)}
        for s in State
        if s in OPEN_STATES and counts.get(s.value)
    ]
    context = {
        "form": form,
        "page": page,
        "chips": chips,
        "overdue_count": counts.get("overdue", 0),
        "total": sum(c["n"] for c in chips),
        "now": timezone.now(),
        "active_state": f.get("state") or "",
        "overdue_only": bool(f.get("overdue")),
    }
    template = "cases/_queue_results.html" if _htmx(request) else "cases/queue.html"
    return render(request, template, context)


# -- one case -------------------------------------------------------------------------------


def _unit(actor, case: Case) -> str:
    """Who is replying, for the reply templates' {unit}."""
    assignment = policy.assignment_of(actor, case)
    if assignment is not None:
        return assignment.department.name
    level = policy.desk_level(actor, case)
    if level in (Level.GRID, Level.COMMUNITY):
        return case.community.name
    if level == Level.STREET:
        return case.street.name
    return case.department.name if case.department_id else case.street.name


def _primary(allowed: list[str], mode: str) -> str | None:
    """The step that moves the case forward, shown as the main button."""
    forward = [Action.ACCEPT, Action.CHECK_IN, Action.PART_DONE, Action.REPLY, Action.VERIFY]
    forward += [Action.CLOSE, Action.RATE]
    if mode in (Mode.ASSIGNED, Mode.JOINT, Mode.TOP):
        forward += [Action.DISPATCH, Action.START]
    else:
        forward += [Action.START, Action.DISPATCH]
    return next((a for a in forward if a in allowed), None)


def _case_context(request, case: Case, *, bound=None, conflict=None, notice="") -> dict:
    actor = request.user
    d = api.detail(actor, case)
    primary = _primary(d["allowed_actions"], case.mode)
    unit = _unit(actor, case) if Action.REPLY in d["allowed_actions"] else ""
    bound = bound or {}
    action_forms = []
    for action in d["allowed_actions"]:
        form = bound.get(action) or ActionForm(
            action=action, case=case, unit=unit, initial={"expected_version": d["version"]}
        )
        action_forms.append(
            {
                "action": action,
                "label": Action(action).label,
                "form": form,
                "errors": error_summary(form) if form.is_bound else [],
                "open": action in bound,
                "primary": action == primary,
                "url": reverse("cases:act", args=[case.id, action]),
            }
        )
    for e in d["events"]:
        e["from_label"] = _state_label(e["from_state"]) if e["from_state"] else ""
        e["to_label"] = _state_label(e["to_state"]) if e["to_state"] else ""
    post = WallPost.objects.filter(case_id=case.id).only("status").first()
    can_propose = (
        case.state == State.CLOSED
        and case.outcome not in (Outcome.INVALID, Outcome.DUPLICATE)
        and (post is None or post.status == WallPost.Status.WITHDRAWN)
        and bool(policy.desk_level(actor, case) or policy.lead_department_acts(actor, case))
    )
    return {
        "case": case,
        "d": d,
        "action_forms": action_forms,
        "conflict": conflict,
        "conflict_allowed": [Action(a).label for a in conflict.allowed] if conflict else [],
        "notice": notice,
        "level_label": Level(case.level).label,
        "wall_post": post,
        "can_propose": can_propose,
        "now": timezone.now(),
        "map_config": {
            "lat": case.lat,
            "lng": case.lng,
            "tileUrl": settings.YIWANG_TILE_URL,
        },
    }


@login_required
@require_GET
def detail(request, case_id: int):
    case = case_access(actor=request.user, case_id=case_id)
    return render(request, "cases/detail.html", _case_context(request, case))


@login_required
@require_POST
def act(request, case_id: int, action: str):
    """One action on one case: 400 with the field named when input is wrong, 409 with the
    current state and the allowed next steps when the state does not allow it."""
    if action not in TRANSITIONS:
        raise Http404
    case = case_access(actor=request.user, case_id=case_id)
    form = ActionForm(request.POST, action=action, case=case, unit=_unit(request.user, case))
    conflict, status = None, 400
    if form.is_valid():
        try:
            api.run_action(request.user, case, action, ActionIn(**form.action_input()))
            status = 200
        except CaseConflict as exc:
            conflict, status = exc, 409
        except ValidationError as exc:
            put_service_errors(form, exc)
        except SchemaError:
            form.add_error(None, _("输入格式不正确"))
        except Http404:
            if action not in (Action.REJECT, Action.MERGE):
                raise
            # The original case's number was not found (or is not visible).
            form.add_error("duplicate_of", _("未找到该编号的事件,或无权访问"))
    label = Action(action).label
    if status == 200 and not _htmx(request):
        messages.success(request, _("已完成“%(a)s”") % {"a": label})
        return redirect("cases:detail", case_id=case.id)
    fresh = case_access(actor=request.user, case_id=case.id)
    context = _case_context(
        request,
        fresh,
        bound={action: form} if status == 400 else None,
        conflict=conflict,
        notice=_("已完成“%(a)s”") % {"a": label} if status == 200 else "",
    )
    template = "cases/_case.html" if _htmx(request) else "cases/detail.html"
    return render(request, template, context, status=status)


@login_required
@require_POST
def wall_propose(request, case_id: int):
    case = case_access(actor=request.user, case_id=case_id)
    try:
        wall.wall_propose(actor=request.user, case=case)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("已提交回音壁审核"))
    return redirect("cases:detail", case_id=case.id)


# -- report ---------------------------------------------------------------------------------


def _district_view() -> dict:
    """The district's outline and bounds, to frame the report map."""
    boundary = District.objects.values_list("boundary", flat=True).first() or None
    if not boundary or not boundary.get("coordinates"):
        return {"bounds": None, "outline": None}
    rings = boundary["coordinates"]
    if boundary.get("type") == "MultiPolygon":
        rings = [ring for polygon in rings for ring in polygon]
    points = [p for ring in rings for p in ring]
    lngs, lats = [p[0] for p in points], [p[1] for p in points]
    return {
        "bounds": [[min(lats), min(lngs)], [max(lats), max(lngs)]],
        "outline": boundary,
    }


def report_new(request):
    """Anyone may report, signed in or not; an anonymous report has no reporter account."""
    status = 200
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES)
        if form.is_valid():
            d = form.cleaned_data
            try:
                case = services.case_report(
                    actor=request.user,
                    channel=Channel.RESIDENT,
                    category=d["category"],
                    title=d["title"],
                    description=d["description"],
                    address=d["address"].strip(),
                    lat=d["lat"],
                    lng=d["lng"],
                    reporter_name=d["reporter_name"].strip(),
                    reporter_phone=d["reporter_phone"].strip(),
                    anonymous=not d["reporter_name"].strip(),
                    idempotency_key=d["idempotency_key"],
                )
            except ValidationError as exc:
                put_service_errors(form, exc)
            else:
                # A repeated submission returns the first case: its photo is already there.
                if d["photo"] and not case.attachments.exists():
                    attach_photo(actor=request.user, case=case, upload=d["photo"])
                request.session[SESSION_REPORTED] = {"id": case.id, "number": case.number}
                return redirect("cases:reported")
        status = 400
    else:
        form = ReportForm()
    config = {
        **_district_view(),
        "tileUrl": settings.YIWANG_TILE_URL,
        "strings": {"picked": _("已选位置"), "tap": _("请在地图上点选问题位置")},
    }
    context = {"form": form, "errors": error_summary(form), "map_config": config}
    return render(request, "cases/new.html", context, status=status)


@require_GET
def report_nearby(request):
    """Is it this one? Open cases of the category near the point. Titles are redacted for
    whoever may not see the case itself."""
    form = NearbyForm(request.GET)
    rows = []
    if form.is_valid():
        f = form.cleaned_data
        for case in nearby_open(category=f["category"], lat=f["lat"], lng=f["lng"]):
            visible = policy.can_see(request.user, case)
            rows.append(
                {
                    "case": case,
                    "title": case.title if visible else wall.redact(case.title, case),
                    "url": reverse("cases:detail", args=[case.id]) if visible else "",
                }
            )
    return render(request, "cases/_nearby.html", {"rows": rows, "asked": form.is_valid()})


@require_POST
def follow(request, case_id: int):
    """Follow an open case found nearby instead of reporting it again."""
    from django.contrib.auth.views import redirect_to_login

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    case = get_object_or_404(Case, id=case_id)
    try:
        services.case_follow(actor=request.user, case=case)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect("cases:new")
    messages.success(request, _("已跟进 %(n)s,办理结果会通知您") % {"n": case.number})
    return redirect("cases:mine")


@require_GET
def report_done(request):
    reported = request.session.get(SESSION_REPORTED)
    if not reported:
        return redirect("cases:new")
    return render(request, "cases/reported.html", {"reported": reported})


# -- my reports -----------------------------------------------------------------------------


def _mine_context(request, *, bound=None, conflict=None) -> dict:
    page = Paginator(my_reports(actor=request.user), PAGE_SIZE).get_page(
        request.GET.get("page") or 1
    )
    rows = []
    for case in page.object_list:
        rateable = (
            case.state == State.CLOSED
            and not case.satisfaction
            and Action.RATE in api.actions_for(request.user, case)
        )
        form = (bound or {}).get(case.id) or (RateForm(prefix=f"r{case.id}") if rateable else None)
        rows.append({"case": case, "rate_form": form if rateable else None})
    return {"page": page, "rows": rows, "conflict": conflict}


@login_required
@require_GET
def mine(request):
    return render(request, "cases/mine.html", _mine_context(request))


@login_required
@require_POST
def rate(request, case_id: int):
    case = case_access(actor=request.user, case_id=case_id)
    form = RateForm(request.POST, prefix=f"r{case.id}")
    conflict, status = None, 400
    if form.is_valid():
        data = ActionIn(
            satisfaction=form.cleaned_data["satisfaction"], note=form.cleaned_data["note"]
        )
        try:
            api.run_action(request.user, case, Action.RATE, data)
        except CaseConflict as exc:
            conflict, status = exc, 409
        except ValidationError as exc:
            put_service_errors(form, exc)
        else:
            messages.success(request, _("感谢您的评价"))
            return redirect("cases:mine")
    context = _mine_context(request, bound={case.id: form} if status == 400 else None)
    context["conflict"] = conflict
    return render(request, "cases/mine.html", context, status=status)


# -- reply wall -----------------------------------------------------------------------------


@require_GET
def wall_page(request):
    """回音壁: public, no login; published posts only, newest first."""
    form = WallFilterForm(request.GET or None)
    f = form.cleaned_data if form.is_valid() else {}
    posts = wall.wall_list(
        street_id=f["street"].id if f.get("street") else None,
        category_id=f["category"].id if f.get("category") else None,
    )
    page = Paginator(posts, PAGE_SIZE).get_page(f.get("page") or 1)
    return render(request, "cases/wall.html", {"form": form, "page": page})


def _reviewable_posts(actor):
    return [p for p in wall.wall_pending(actor=actor) if wall.can_review(actor, p.case)]


def _review_context(actor, bound=None) -> dict:
    rows = []
    for post in _reviewable_posts(actor):
        form = (bound or {}).get(post.id) or WallReviewForm(
            prefix=f"p{post.id}", initial={"summary": post.summary, "reply": post.reply}
        )
        rows.append({"post": post, "form": form})
    return {"rows": rows}


@login_required
@require_GET
def wall_review_list(request):
    return render(request, "cases/wall_review.html", _review_context(request.user))


@login_required
@require_POST
def wall_review_post(request, post_id: int):
    visible = case_list(actor=request.user).values("id")
    post = (
        WallPost.objects.select_related("case")
        .filter(id=post_id, case_id__in=visible, status=WallPost.Status.PROPOSED)
        .first()
    )
    if post is None:
        raise Http404
    form = WallReviewForm(request.POST, prefix=f"p{post.id}")
    if form.is_valid():
        d = form.cleaned_data
        try:
            wall.wall_review(
                actor=request.user,
                post=post,
                approve=d["decision"] == "approve",
                summary=d["summary"],
                reply=d["reply"],
            )
        except ValidationError as exc:
            put_service_errors(form, exc)
        else:
            done = _("已发布") if d["decision"] == "approve" else _("已退回,不予发布")
            messages.success(request, done)
            return redirect("cases:wall_review")
    context = _review_context(request.user, bound={post.id: form})
    return render(request, "cases/wall_review.html", context, status=400)
