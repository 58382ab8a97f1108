"""One constructor for case events, so every change is written the same way, in the same
transaction as the change itself."""

from __future__ import annotations

from django.utils import timezone

from .models import Case, CaseEvent


def actor_label(actor) -> str:
    if actor is None:
        return "系统"
    return actor.get_full_name() or actor.username


# Called with each new event inside its transaction. Apps that keep figures derived from cases
# (the brains' roll-ups) register here, so this app never imports them.
EVENT_HOOKS: list = []


def register_event_hook(hook) -> None:
    if hook not in EVENT_HOOKS:
        EVENT_HOOKS.append(hook)


def record(
    case: Case,
    *,
    actor,
    action: str,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    data: dict | None = None,
    at=None,
) -> CaseEvent:
    event = CaseEvent.objects.create(
        case=case,
        action=action,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=actor_label(actor) if actor is None or actor.is_authenticated else "匿名",
        from_state=from_state,
        to_state=to_state,
        note=note,
        data=data or {},
        created_at=at or timezone.now(),
    )
    for hook in EVENT_HOOKS:
        hook(case, event)
    return event
