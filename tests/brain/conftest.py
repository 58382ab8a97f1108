"""Brain fixtures: the case fixtures (categories, a resident reporting in grid A1 …) and a
helper that runs a case through its life with the product's own services."""

from datetime import timedelta

from tests.cases.conftest import (  # noqa: F401
    _fresh_calendar,
    cat,
    depts,
    handlers,
    report,
    resident,
)
from yiwang.cases import services as s
from yiwang.cases.models import Case
from yiwang.cases.states import Outcome

# A case's life as steps; each prefix is a state the case can stop in.
LIFE = ["accept", "start", "reply", "verify", "close", "rate"]


def step(case, name, *, desk, rater, outcome=Outcome.SOLVED, satisfaction="satisfied"):
    case.refresh_from_db()
    if name == "accept":
        s.case_accept(actor=desk, case=case)
    elif name == "start":
        s.case_start(actor=desk, case=case)
    elif name == "reply":
        s.case_reply(actor=desk, case=case, reply="已处理")
    elif name == "verify":
        s.case_verify(actor=desk, case=case, ok=True)
    elif name == "close":
        s.case_close(actor=desk, case=case, outcome=outcome, note="说明")
    elif name == "rate":
        s.case_rate(actor=rater, case=case, satisfaction=satisfaction, note="评价")
    elif name == "reject":
        s.case_reject(actor=desk, case=case, outcome=Outcome.INVALID, reason="无效")
    elif name == "reopen":
        s.case_reopen(actor=desk, case=case, reason="群众反映仍未解决")
    else:
        raise AssertionError(name)


def backdate(case, reported_at, *, close_after_hours=None, respond_after_hours=1.0):
    """Test set-up: put a case's clock in the past (no event, as a bulk load would)."""
    fields = {
        "reported_at": reported_at,
        "response_due": reported_at + timedelta(hours=2),
        "resolve_due": reported_at + timedelta(hours=40),
    }
    case.refresh_from_db()
    if case.responded_at:
        fields["responded_at"] = reported_at + timedelta(hours=respond_after_hours)
    if case.closed_at and close_after_hours is not None:
        fields["closed_at"] = reported_at + timedelta(hours=close_after_hours)
    Case.objects.filter(id=case.id).update(**fields)
