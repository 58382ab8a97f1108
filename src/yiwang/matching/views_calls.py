"""Open calls (揭榜) and service records: the public list of calls, who delivered what and the
partners; publishing a call, applying, choosing, milestones and evaluation; the records of
who served how many, with an xlsx export."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from . import selectors, services
from .errors import MatchConflict
from .forms import (
    errors_of,
    ids,
    int_or_none,
    local_date,
    local_datetime,
    milestone_lines,
    number_text,
)
from .models import Application, Milestone, OpenCall, ServiceRecord
from .views import PAGE_SIZE, _conflict

# -- open calls (揭榜) ------------------------------------------------------------------------


def _actor(request):
    return request.user if request.user.is_authenticated else None


@require_GET
def call_list(request):
    actor = _actor(request)
    status = request.GET.get("status", "")
    calls = selectors.call_list(actor=actor, status=status, mine=actor is not None)
    page = Paginator(calls.order_by("-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "statuses": [(s, OpenCall.Status(s).label) for s in selectors.PUBLIC_CALL_STATES],
        "delivered": selectors.delivered_list(limit=20),
        "partners": selectors.partner_list(),
        "can_create": bool(services.call_units(actor)) if actor else False,
        "desk": selectors.is_desk(actor),
    }
    return render(request, "matching/call_list.html", context)


def _unit_value(level: str, node) -> str:
    return level if node is None else f"{level}:{node.id}"


CALL_FIELDS = (
    "unit",
    "title",
    "description",
    "location",
    "budget",
    "in_kind",
    "criteria",
    "apply_by",
    "deliver_by",
)


@login_required
def call_new(request):
    actor = request.user
    units = services.call_units(actor)
    if not units:
        raise PermissionDenied
    options = [
        (_unit_value(level, node), node.name if node is not None else _("区级"), (level, node))
        for level, node in units
    ]
    data = request.POST if request.method == "POST" else {}
    context = {"units": options, "data": data, "errors": {}}
    if request.method != "POST":
        return render(request, "matching/call_new.html", context)
    errors: dict[str, list[str]] = {}
    unit = next((u for value, _l, u in options if value == data.get("unit")), options[0][2])
    parsed = {}
    try:
        parsed["apply_by"] = local_datetime(data.get("apply_by"), "apply_by")
    except ValidationError as exc:
        errors.update(errors_of(exc))
    try:
        parsed["deliver_by"] = local_date(data.get("deliver_by"), "deliver_by")
    except ValidationError as exc:
        errors.update(errors_of(exc))
    if not errors:
        try:
            call = services.call_create(
                actor=actor,
                unit=unit,
                title=data.get("title", ""),
                description=data.get("description", ""),
                location=data.get("location", ""),
                budget=number_text(data.get("budget"), "budget"),
                in_kind=data.get("in_kind", ""),
                criteria=data.get("criteria", ""),
                **parsed,
            )
        except ValidationError as exc:
            errors = errors_of(exc, CALL_FIELDS)
        else:
            messages.success(request, _("已保存为草稿,核对无误后请点“发布”"))
            return redirect("matching:call_detail", call.id)
    context["errors"] = errors
    return render(request, "matching/call_new.html", context)


def _call_page(request, call: OpenCall, *, errors=None, form: str = "", target=None):
    actor = _actor(request)
    now = timezone.now()
    manages = selectors.call_manages(actor=actor, call=call)
    partners = selectors.partners_of(actor)
    applications = call.applications.select_related("partner__organization").prefetch_related(
        "milestones"
    )
    if manages:
        shown = list(applications)
    elif partners:
        shown = list(applications.filter(partner__in=partners))
    else:
        shown = []
    applied = {a.partner_id for a in shown}
    context = {
        "call": call,
        "manages": manages,
        "partners": [p for p in partners if p.id not in applied],
        "applications": [
            {
                "a": a,
                "own": a.partner_id in {p.id for p in partners},
                "errors": errors if target == ("application", a.id) else {},
                "milestones": [
                    {
                        "m": m,
                        "errors": errors if target == ("milestone", m.id) else {},
                    }
                    for m in a.milestones.all()
                ],
            }
            for a in shown
        ],
        "chosen": list(applications.filter(status=Application.Status.CHOSEN) if not shown else []),
        "n_applications": call.applications.count(),
        "open_for_applications": call.status == OpenCall.Status.PUBLISHED and call.apply_by > now,
        "errors": errors if target is None else {},
        "form": form,
        "data": request.POST if errors else {},
        "scores": range(1, 6),
    }
    return render(request, "matching/call_detail.html", context)


@require_GET
def call_detail(request, call_id: int):
    call = selectors.call_access(actor=_actor(request), id=call_id)
    return _call_page(request, call)


def _call_action(request, call_id: int):
    if not request.user.is_authenticated:
        raise PermissionDenied
    call = selectors.call_access(actor=request.user, id=call_id)
    return call, reverse("matching:call_detail", args=[call.id])


@login_required
@require_POST
def call_publish(request, call_id: int):
    call, to = _call_action(request, call_id)
    try:
        services.call_publish(actor=request.user, call=call)
    except (ValidationError, MatchConflict) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("已发布,合作单位现在可以报名"))
    return redirect(to)


@login_required
@require_POST
def call_cancel(request, call_id: int):
    call, to = _call_action(request, call_id)
    try:
        services.call_cancel(actor=request.user, call=call)
    except MatchConflict as exc:
        return _conflict(request, exc, to)
    messages.success(request, _("已撤销揭榜任务"))
    return redirect(to)


@login_required
@require_POST
def call_apply(request, call_id: int):
    call, to = _call_action(request, call_id)
    partners = selectors.partners_of(request.user)
    if not partners:
        raise PermissionDenied
    wanted = int_or_none(request.POST.get("partner"))
    partner = next((p for p in partners if p.id == wanted), partners[0])
    try:
        services.call_apply(
            actor=request.user,
            call=call,
            partner=partner,
            proposal=request.POST.get("proposal", ""),
            amount=number_text(request.POST.get("amount"), "amount"),
        )
    except ValidationError as exc:
        errors = errors_of(exc, ("partner", "proposal", "amount"))
        if "partner" in errors:  # already applied, or left: the form is gone from the page
            messages.error(request, "; ".join(errors["partner"]))
            return redirect(to)
        return _call_page(request, call, errors=errors, form="apply")
    except MatchConflict as exc:
        return _conflict(request, exc, to)
    messages.success(request, _("已报名,请等待发布单位选定"))
    return redirect(to)


@login_required
@require_POST
def call_choose(request, call_id: int):
    call, to = _call_action(request, call_id)
    try:
        steps = milestone_lines(request.POST.get("milestones", ""))
        chosen = list(call.applications.filter(id__in=ids(request.POST.getlist("applications"))))
        services.call_choose(actor=request.user, call=call, applications=chosen, milestones=steps)
    except ValidationError as exc:
        errors = errors_of(exc, ("applications", "milestones"))
        return _call_page(request, call, errors=errors, form="choose")
    except MatchConflict as exc:
        return _conflict(request, exc, to)
    messages.success(request, _("已选定揭榜单位"))
    return redirect(to)


def _milestone(call: OpenCall, milestone_id: int) -> Milestone:
    """A milestone of this (guarded) call."""
    milestone = (
        Milestone.objects.filter(id=milestone_id, application__call=call)
        .select_related("application__partner", "application__call")
        .first()
    )
    if milestone is None:
        raise Http404
    return milestone


@login_required
@require_POST
def milestone_submit(request, call_id: int, milestone_id: int):
    call, to = _call_action(request, call_id)
    milestone = _milestone(call, milestone_id)
    try:
        services.milestone_submit(
            actor=request.user,
            milestone=milestone,
            evidence=request.POST.get("evidence", ""),
            file=request.FILES.get("evidence_file"),
        )
    except ValidationError as exc:
        errors = errors_of(exc, ("evidence", "evidence_file"))
        return _call_page(request, call, errors=errors, target=("milestone", milestone.id))
    except MatchConflict as exc:
        return _conflict(request, exc, to)
    messages.success(request, _("已提交完成情况,等待验收"))
    return redirect(to)


@login_required
@require_POST
def milestone_accept(request, call_id: int, milestone_id: int):
    call, to = _call_action(request, call_id)
    milestone = _milestone(call, milestone_id)
    try:
        services.milestone_accept(actor=request.user, milestone=milestone)
    except (ValidationError, MatchConflict) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("已验收“%(t)s”") % {"t": milestone.title})
    return redirect(to)


@login_required
@require_POST
def call_evaluate(request, call_id: int, application_id: int):
    call, to = _call_action(request, call_id)
    application = call.applications.select_related("partner", "call").filter(id=application_id)
    application = application.first()
    if application is None:
        raise Http404
    try:
        services.call_evaluate(
            actor=request.user,
            application=application,
            score=request.POST.get("score"),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        errors = errors_of(exc, ("score", "note"))
        return _call_page(request, call, errors=errors, target=("application", application.id))
    except MatchConflict as exc:
        return _conflict(request, exc, to)
    messages.success(request, _("已评价"))
    return redirect(to)


# -- service records --------------------------------------------------------------------------


RECORD_BY = {
    "provider": gettext_lazy("服务方"),
    "user": gettext_lazy("人员"),
    "department": gettext_lazy("部门"),
    "organization": gettext_lazy("组织"),
}


@login_required
@require_GET
def records(request):
    g = request.GET
    by = g.get("by") if g.get("by") in selectors.RECORD_GROUPS else "provider"
    kind = g.get("kind") if g.get("kind") in ServiceRecord.Kind.values else ""
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    start, end = today.replace(day=1), today
    try:
        start = local_date(g.get("start"), "start") or start
    except ValidationError as exc:
        errors.update(errors_of(exc))
    try:
        end = local_date(g.get("end"), "end") or end
    except ValidationError as exc:
        errors.update(errors_of(exc))
    if not errors and end < start:
        errors["end"] = [_("结束日期不能早于开始日期")]
    if not errors and (end - start).days > 366 * 3:
        errors["end"] = [_("统计期间不能超过三年")]
    rows = []
    if not errors:
        rows = selectors.service_record_summary(
            actor=request.user, by=by, start=start, end=end, kind=kind
        )
    totals = {"records": 0, "people": 0, "families": 0, "hours": 0}
    if not errors:
        totals = selectors.service_record_totals(
            actor=request.user, start=start, end=end, kind=kind
        )
    if g.get("format") == "xlsx" and not errors:
        return _records_xlsx(request, rows, by=by, start=start, end=end)
    context = {
        "rows": rows,
        "totals": totals,
        "by": by,
        "by_options": RECORD_BY.items(),
        "kind": kind,
        "kinds": ServiceRecord.Kind.choices,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "errors": errors,
        "desk": selectors.is_desk(request.user),
    }
    return render(request, "matching/records.html", context)


def _records_xlsx(request, rows, *, by: str, start, end) -> HttpResponse:
    from yiwang.common.export import write_rows

    table = [[str(RECORD_BY[by]), _("服务人次"), _("服务人数"), _("服务户数"), _("时长 (小时)")]]
    table += [[r["name"], r["records"], r["people"], r["families"], r["hours"]] for r in rows]
    banner = _("服务记录 %(a)s 至 %(b)s 导出人:%(u)s 导出时间:%(t)s") % {
        "a": start.isoformat(),
        "b": end.isoformat(),
        "u": request.user.get_username(),
        "t": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
    }
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "records.xlsx"
        write_rows(table, path, title=_("服务记录"), banner=banner)
        content = path.read_bytes()
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="service-records-{by}-{start:%Y%m%d}-{end:%Y%m%d}.xlsx"'
    )
    return response
