from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from yiwang.registry.privacy import access_log_write

from .models import FINAL_OUTCOMES, CallTask, Campaign


def campaign_list(*, actor) -> QuerySet:
    if actor.is_superuser:
        return Campaign.objects.all()
    return Campaign.objects.filter(Q(owner=actor) | Q(tasks__caller=actor)).distinct()


def campaign_access(*, actor, id) -> Campaign:
    try:
        campaign = Campaign.objects.select_related("owner").get(id=int(id))
    except (Campaign.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not (
        actor.is_superuser
        or campaign.owner_id == actor.id
        or campaign.tasks.filter(caller=actor).exists()
    ):
        raise Http404
    return campaign


def campaign_progress(campaign: Campaign) -> dict:
    """Per caller and overall: calls, done, reached, outcomes."""
    rows = (
        campaign.tasks.values("caller_id", "caller__username", "caller__first_name")
        .annotate(
            total=Count("id"),
            done=Count("id", filter=Q(outcome__in=FINAL_OUTCOMES)),
            reached=Count("id", filter=Q(outcome="reached")),
            not_reached=Count("id", filter=Q(outcome="not_reached")),
        )
        .order_by("caller__username")
    )
    callers = [
        {
            "caller_id": r["caller_id"],
            "caller": r["caller__first_name"] or r["caller__username"] or "未分配",
            "total": r["total"],
            "done": r["done"],
            "reached": r["reached"],
            "not_reached": r["not_reached"],
            "percent": round(100 * r["done"] / r["total"]) if r["total"] else 0,
        }
        for r in rows
    ]
    total = sum(c["total"] for c in callers)
    done = sum(c["done"] for c in callers)
    by_outcome = dict(
        campaign.tasks.exclude(outcome="").values_list("outcome").annotate(n=Count("id"))
    )
    return {
        "total": total,
        "done": done,
        "percent": round(100 * done / total) if total else 0,
        "callers": callers,
        "by_outcome": by_outcome,
    }


def my_calls(*, actor, campaign: Campaign) -> list[CallTask]:
    """The caller's list with the phone numbers they must dial: one access-log row."""
    tasks = list(
        campaign.tasks.filter(caller=actor)
        .select_related("resident", "grid")
        .order_by("outcome", "id")
    )
    access_log_write(
        actor=actor,
        action="view",
        purpose=campaign.purpose,
        reason=f"摸排任务 {campaign.id}",
        filter={"campaign": campaign.id},
        record_count=len(tasks),
        channel="web",
    )
    return tasks
