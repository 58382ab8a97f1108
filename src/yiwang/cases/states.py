"""Case states, handling modes, outcomes, and the one table of allowed transitions."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    REPORTED = "reported", _("已上报")
    ACCEPTED = "accepted", _("已受理")
    DISPATCHED = "dispatched", _("已派单")
    IN_PROGRESS = "in_progress", _("办理中")
    REPLIED = "replied", _("已答复")
    VERIFIED = "verified", _("已核查")
    CLOSED = "closed", _("已办结")
    REJECTED = "rejected", _("不予受理")
    RETURNED = "returned", _("已退单")
    ESCALATED = "escalated", _("已上报上级")
    REOPENED = "reopened", _("已重办")


OPEN_STATES = frozenset(
    {
        State.REPORTED,
        State.ACCEPTED,
        State.DISPATCHED,
        State.IN_PROGRESS,
        State.REPLIED,
        State.VERIFIED,
        State.RETURNED,
        State.ESCALATED,
        State.REOPENED,
    }
)
CLOSED_STATES = frozenset({State.CLOSED, State.REJECTED})
# States in which someone is working on the case and its resolution clock runs.
WAITING_FOR_DESK = frozenset({State.REPORTED, State.RETURNED, State.ESCALATED, State.REOPENED})


class Mode(models.TextChoices):
    IMMEDIATE = "immediate", _("即办")
    FAST = "fast", _("快办")
    ASSIGNED = "assigned", _("分办")
    JOINT = "joint", _("联办")
    TOP = "top", _("顶格办")


class Level(models.TextChoices):
    """Whose desk the case sits on. Departments work on assignments, not on the level."""

    GRID = "grid", _("网格")
    COMMUNITY = "community", _("社区")
    STREET = "street", _("街道")
    DISTRICT = "district", _("区级")


LEVEL_ORDER = [Level.GRID, Level.COMMUNITY, Level.STREET, Level.DISTRICT]


def level_above(level: str) -> str | None:
    i = LEVEL_ORDER.index(level)
    return LEVEL_ORDER[i + 1] if i + 1 < len(LEVEL_ORDER) else None


class Channel(models.TextChoices):
    RESIDENT = "resident", _("居民上报")
    GRID_WORKER = "grid_worker", _("网格员上报")
    PATROL = "patrol", _("巡查发现")
    HOTLINE = "hotline", _("12345热线")
    DESK = "desk", _("社区窗口")
    DEPARTMENT = "department", _("部门移交")
    VIDEO = "video", _("视频监控")
    TOPIC = "topic", _("议题转办")


class Outcome(models.TextChoices):
    """Honest closure: each is shown to the reporter and counted as it is."""

    SOLVED = "solved", _("已解决")
    PARTLY = "partly", _("部分解决")
    UNSOLVABLE = "unsolvable", _("无法解决")
    NOT_OURS = "not_ours", _("非本单位职责")
    DUPLICATE = "duplicate", _("重复件")
    INVALID = "invalid", _("无效件")


OUTCOMES_NEEDING_REASON = frozenset({Outcome.PARTLY, Outcome.UNSOLVABLE, Outcome.NOT_OURS})


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASIC = "basic", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class Action(models.TextChoices):
    REPORT = "report", _("上报")
    ACCEPT = "accept", _("受理")
    REJECT = "reject", _("不予受理")
    DISPATCH = "dispatch", _("派单")
    CHECK_IN = "check_in", _("报到")
    START = "start", _("开始办理")
    RETURN = "return", _("退单")
    ESCALATE = "escalate", _("上报上级")
    PART_DONE = "part_done", _("协办完成")
    REPLY = "reply", _("答复")
    VERIFY = "verify", _("核查通过")
    VERIFY_FAIL = "verify_fail", _("核查未通过")
    CLOSE = "close", _("办结")
    RATE = "rate", _("评价")
    REOPEN = "reopen", _("重办")
    MERGE = "merge", _("合并")
    TAKE = "take", _("领办")
    WARN = "warn", _("临期提醒")
    OVERDUE = "overdue", _("超期")
    NOTE = "note", _("备注")


# The one table of allowed transitions: action → (from states, to state).
# A to-state of None leaves the state as it is.
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    Action.ACCEPT: (frozenset({State.REPORTED, State.ESCALATED}), State.ACCEPTED),
    Action.REJECT: (frozenset({State.REPORTED, State.ACCEPTED, State.ESCALATED}), State.REJECTED),
    Action.DISPATCH: (
        frozenset({State.ACCEPTED, State.RETURNED, State.ESCALATED, State.REOPENED}),
        State.DISPATCHED,
    ),
    Action.CHECK_IN: (frozenset({State.DISPATCHED, State.IN_PROGRESS}), None),
    Action.START: (
        frozenset({State.ACCEPTED, State.DISPATCHED, State.REOPENED}),
        State.IN_PROGRESS,
    ),
    Action.RETURN: (frozenset({State.DISPATCHED}), State.RETURNED),
    Action.ESCALATE: (
        frozenset(
            {
                State.REPORTED,
                State.ACCEPTED,
                State.DISPATCHED,
                State.IN_PROGRESS,
                State.RETURNED,
                State.REOPENED,
                State.ESCALATED,
            }
        ),
        State.ESCALATED,
    ),
    Action.PART_DONE: (frozenset({State.DISPATCHED, State.IN_PROGRESS}), None),
    Action.REPLY: (frozenset({State.IN_PROGRESS}), State.REPLIED),
    Action.VERIFY: (frozenset({State.REPLIED}), State.VERIFIED),
    Action.VERIFY_FAIL: (frozenset({State.REPLIED}), State.IN_PROGRESS),
    Action.CLOSE: (frozenset({State.VERIFIED}), State.CLOSED),
    Action.RATE: (frozenset({State.CLOSED}), None),
    Action.REOPEN: (frozenset({State.CLOSED}), State.REOPENED),
    Action.MERGE: (frozenset(OPEN_STATES), State.REJECTED),
    Action.TAKE: (frozenset(OPEN_STATES), None),
}


def allowed_actions(state: str) -> list[str]:
    return [a for a, (froms, _to) in TRANSITIONS.items() if state in froms]
