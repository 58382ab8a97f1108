"""Errors the case services raise; the API and pages turn them into 409 / 403 / 400."""

from django.utils.translation import gettext as _

from .states import TRANSITIONS, Action, State


class CaseConflict(Exception):
    """The case is not in a state that allows this, or someone changed it first."""

    def __init__(self, message: str, *, state: str, allowed: list[str]):
        super().__init__(message)
        self.state = state
        self.allowed = allowed

    def as_dict(self) -> dict:
        return {
            "code": "conflict",
            "message": str(self),
            "field": None,
            "state": self.state,
            "state_label": State(self.state).label,
            "allowed": self.allowed,
            "allowed_labels": [str(Action(a).label) for a in self.allowed],
        }


def invalid_transition(action: str, state: str, allowed: list[str]) -> CaseConflict:
    labels = "、".join(str(Action(a).label) for a in allowed) or _("无")
    return CaseConflict(
        _("当前状态“%(state)s”不能%(action)s;可进行的操作:%(allowed)s")
        % {"state": State(state).label, "action": Action(action).label, "allowed": labels},
        state=state,
        allowed=allowed,
    )


def stale(state: str, allowed: list[str]) -> CaseConflict:
    return CaseConflict(
        _("该事件已被他人更新 (当前状态“%(state)s”),请刷新后重试") % {"state": State(state).label},
        state=state,
        allowed=allowed,
    )


__all__ = ["CaseConflict", "invalid_transition", "stale", "TRANSITIONS"]
