"""Campaign changes, acting user first."""

from __future__ import annotations

from collections import defaultdict
from itertools import cycle

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.org.models import Role, RoleKind
from yiwang.registry.models import Resident
from yiwang.search.selectors import Filters, search

from .models import FINAL_OUTCOMES, CallTask, Campaign, Outcome
from .search_pages import remaining_ids

MAX_PEOPLE = 5_000


def campaign_create(
    *,
    actor,
    title: str,
    purpose: str,
    query: str,
    filters: Filters | None = None,
    reason: str = "",
    deadline=None,
) -> Campaign:
    """Runs the search once (scoped and logged like any search) and freezes who it found as
    the call list: later changes to the registry do not move people in or out."""
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": [_("请填写任务名称")]})
    filters = filters or Filters()
    first = search(
        actor=actor, query=query, purpose=purpose, reason=reason, filters=filters, page_size=200
    )
    if first.total == 0:
        raise ValidationError({"q": [_("没有检索到人员,无法生成名单")]})
    if first.total > MAX_PEOPLE:
        raise ValidationError(
            {
                "q": [
                    _("检索到 %(n)s 人,超过单个任务上限 %(m)s 人,请缩小范围")
                    % {"n": first.total, "m": MAX_PEOPLE}
                ]
            }
        )
    ids = [h.id for h in first.hits]
    ids += remaining_ids(actor, query, filters, first.total - len(ids))
    with transaction.atomic():
        campaign = Campaign.objects.create(
            title=title,
            purpose=purpose,
            reason=reason,
            query=query,
            filters=filters.__dict__,
            owner=actor,
            deadline=deadline,
        )
        grids = dict(Resident.objects.filter(id__in=ids).values_list("id", "grid_id"))
        CallTask.objects.bulk_create(
            [CallTask(campaign=campaign, resident_id=i, grid_id=grids.get(i)) for i in ids],
            batch_size=1000,
        )
    return campaign


def _owns(actor, campaign: Campaign) -> bool:
    return actor.is_superuser or campaign.owner_id == actor.id


def campaign_split(
    *, actor, campaign: Campaign, callers: list, by_grid: bool = False
) -> dict[int, int]:
    """Splits the not-yet-done calls among the callers: evenly, or by grid so that each grid
    worker calls their own grid's people (the rest evenly). Returns calls per caller."""
    if not _owns(actor, campaign):
        raise PermissionDenied("campaign_split")
    callers = list(dict.fromkeys(callers))
    if not callers:
        raise ValidationError({"callers": [_("请选择至少一名接听人员")]})
    tasks = list(campaign.tasks.exclude(outcome__in=FINAL_OUTCOMES).order_by("grid_id", "id"))
    assignment: dict[int, list[int]] = defaultdict(list)
    rest = tasks
    if by_grid:
        own = {
            grid_id: user_id
            for user_id, grid_id in Role.objects.filter(
                kind=RoleKind.GRID_WORKER, user__in=callers
            ).values_list("user_id", "grid_id")
        }
        rest = []
        for t in tasks:
            if t.grid_id in own:
                assignment[own[t.grid_id]].append(t.id)
            else:
                rest.append(t)
    for task, caller in zip(rest, cycle(callers)):
        assignment[caller.id].append(task.id)
    with transaction.atomic():
        for user_id, ids in assignment.items():
            CallTask.objects.filter(id__in=ids).update(caller_id=user_id)
    return {uid: len(ids) for uid, ids in assignment.items()}


# Called with each call task that reached a final outcome, inside its transaction; apps that
# count work done (the service records) register here, so this app never imports them.
CALL_HOOKS: list = []


def register_call_hook(hook) -> None:
    if hook not in CALL_HOOKS:
        CALL_HOOKS.append(hook)


def calltask_record(*, actor, task: CallTask, outcome: str, note: str = "") -> CallTask:
    """Records a call. 未接通 counts an attempt and keeps the call open for a retry."""
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": [_("未知的结果")]})
    if task.caller_id != actor.id and not _owns(actor, task.campaign):
        raise PermissionDenied("calltask_record")
    if task.campaign.status != Campaign.Status.OPEN:
        raise ValidationError({"campaign": [_("任务已结束")]})
    task.outcome = outcome
    task.note = (note or "").strip()[:300]
    task.attempts += 1
    task.called_at = timezone.now()
    with transaction.atomic():
        task.save(update_fields=["outcome", "note", "attempts", "called_at"])
        if task.done:
            for hook in CALL_HOOKS:
                hook(task)
    return task


def campaign_close(*, actor, campaign: Campaign) -> Campaign:
    if not _owns(actor, campaign):
        raise PermissionDenied("campaign_close")
    campaign.status = Campaign.Status.CLOSED
    campaign.save(update_fields=["status"])
    return campaign


def callers_for(actor) -> list:
    """Staff an owner may hand calls to: users with a desk role in the owner's part of the tree."""
    from yiwang.org.selectors import scope_for

    scope = scope_for(actor)
    roles = Role.objects.filter(
        kind__in=[RoleKind.GRID_WORKER, RoleKind.COMMUNITY_STAFF, RoleKind.STREET_STAFF]
    )
    if not scope.everything:
        roles = (
            roles.filter(grid__in=list(scope.grid_ids))
            | roles.filter(community__in=list(scope.community_ids))
            | roles.filter(street__in=list(scope.street_ids))
            | roles.filter(grid__community__in=list(scope.community_ids))
            | roles.filter(grid__street__in=list(scope.street_ids))
            | roles.filter(community__street__in=list(scope.street_ids))
        )
    ids = set(roles.values_list("user_id", flat=True)) | {actor.id}
    return list(get_user_model().objects.filter(id__in=ids).order_by("username"))
