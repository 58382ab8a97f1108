"""摸排 pages: start a campaign from a search, split it, watch progress, call from a phone."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yiwang.registry.privacy import PURPOSES
from yiwang.search.selectors import Filters

from . import services
from .models import CallTask, Outcome
from .selectors import campaign_access, campaign_list, campaign_progress, my_calls


@login_required
def campaign_index(request):
    return render(
        request, "outreach/index.html", {"campaigns": campaign_list(actor=request.user)[:100]}
    )


@login_required
def campaign_new(request):
    data = request.POST if request.method == "POST" else request.GET
    context = {"purposes": PURPOSES, "data": data, "errors": {}}
    if request.method == "POST":
        try:
            campaign = services.campaign_create(
                actor=request.user,
                title=data.get("title", ""),
                purpose=data.get("purpose", ""),
                reason=data.get("reason", ""),
                query=data.get("q", ""),
                filters=Filters(),
            )
        except ValidationError as exc:
            context["errors"] = exc.message_dict
        except PermissionDenied:
            context["errors"] = {"q": [_("您的账号没有可检索的人员范围")]}
        else:
            messages.success(request, _("已生成名单,共 %(n)s 人") % {"n": campaign.tasks.count()})
            return redirect("outreach:detail", campaign.id)
    return render(request, "outreach/new.html", context)


@login_required
def campaign_detail(request, campaign_id: int):
    campaign = campaign_access(actor=request.user, id=campaign_id)
    context = {
        "campaign": campaign,
        "progress": campaign_progress(campaign),
        "is_owner": campaign.owner_id == request.user.id or request.user.is_superuser,
        "callers": services.callers_for(request.user),
        "outcomes": Outcome.choices,
    }
    if request.headers.get("HX-Request"):
        return render(request, "outreach/_progress.html", context)
    return render(request, "outreach/detail.html", context)


@login_required
@require_POST
def campaign_split(request, campaign_id: int):
    campaign = campaign_access(actor=request.user, id=campaign_id)
    ids = [int(x) for x in request.POST.getlist("callers") if x.isdigit()]
    allowed = {u.id: u for u in services.callers_for(request.user)}
    callers = [allowed[i] for i in ids if i in allowed]
    try:
        split = services.campaign_split(
            actor=request.user,
            campaign=campaign,
            callers=callers,
            by_grid=request.POST.get("by") == "grid",
        )
        messages.success(request, _("已分配给 %(n)s 人") % {"n": len(split)})
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("outreach:detail", campaign.id)


@login_required
def my_list(request, campaign_id: int):
    campaign = campaign_access(actor=request.user, id=campaign_id)
    return render(
        request,
        "outreach/calls.html",
        {
            "campaign": campaign,
            "tasks": my_calls(actor=request.user, campaign=campaign),
            "outcomes": Outcome.choices,
        },
    )


@login_required
@require_POST
def record(request, campaign_id: int, task_id: int):
    campaign = campaign_access(actor=request.user, id=campaign_id)
    task = (
        CallTask.objects.select_related("campaign", "resident")
        .filter(id=task_id, campaign=campaign)
        .first()
    )
    if task is None:
        raise Http404
    try:
        services.calltask_record(
            actor=request.user,
            task=task,
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    if request.headers.get("HX-Request"):
        return render(
            request,
            "outreach/_call.html",
            {"task": task, "campaign": campaign, "outcomes": Outcome.choices},
        )
    return redirect("outreach:calls", campaign.id)


@login_required
def export(request, campaign_id: int):
    """The results as xlsx, with a first line naming the exporter and time; logged."""
    import tempfile

    from yiwang.common.export import write_rows
    from yiwang.registry.privacy import access_log_write

    campaign = campaign_access(actor=request.user, id=campaign_id)
    if not (campaign.owner_id == request.user.id or request.user.is_superuser):
        raise Http404
    tasks = campaign.tasks.select_related("resident", "grid", "caller").order_by("id")
    rows = [["姓名", "地址", "网格", "接听人员", "结果", "备注", "拨打次数", "时间"]]
    for t in tasks:
        rows.append(
            [
                t.resident.name,
                t.resident.address,
                t.grid.name if t.grid_id else "",
                (t.caller.first_name or t.caller.username) if t.caller_id else "",
                t.get_outcome_display() if t.outcome else "",
                t.note,
                t.attempts,
                timezone.localtime(t.called_at).strftime("%Y-%m-%d %H:%M") if t.called_at else "",
            ]
        )
    banner = _("导出人:%(u)s 导出时间:%(t)s") % {
        "u": request.user.get_username(),
        "t": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
    }
    access_log_write(
        actor=request.user,
        action="export",
        purpose=campaign.purpose,
        filter={"campaign": campaign.id},
        record_count=len(rows) - 1,
        channel="web",
    )
    tmp = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)
    write_rows(rows, tmp.name, title="摸排结果", banner=banner)
    return FileResponse(
        open(tmp.name, "rb"), as_attachment=True, filename=f"campaign-{campaign.id}.xlsx"
    )


__all__ = ["get_user_model"]
