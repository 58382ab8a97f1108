"""The rates as ratios of roll-up counts. Each mirrors the function of the same name in
`yiwang.cases.rates` (same numerator, denominator and rounding), so a figure read from the
roll-ups equals the desks' figure for the same node and whole local days; the tests prove it.
Dashboards, the API, exports and star ratings all compute rates here and nowhere else."""

from __future__ import annotations

from datetime import timedelta

from yiwang.cases.rates import _ratio

# rate → (numerator count, denominator count)
RATIOS: dict[str, tuple[str, str]] = {
    "response_rate": ("responded_on_time", "reported"),
    "on_time_rate": ("closed_on_time", "closed"),
    "completion_rate": ("completed", "taken_on"),
    "solved_rate": ("solved", "closed"),
    "satisfaction_rate": ("satisfied", "rated"),
    "reopen_rate": ("reopened", "closed"),
    # Not a desk rate: the share of reported cases now flagged overdue.
    "overdue_rate": ("overdue", "reported"),
}
RATE_NAMES = (*RATIOS, "average_handling_hours")


def ratio(num: int, den: int) -> float | None:
    """The desks' own ratio (cases.rates), so a rate has one rounding everywhere."""
    return _ratio(num, den)


def handling_hours(total_us: int, closed: int) -> float | None:
    """Mean handling time like cases.rates.average_handling_hours: the mean duration at
    microsecond resolution, in hours, to two decimals."""
    if not closed:
        return None
    mean = timedelta(microseconds=total_us / closed)
    return round(mean.total_seconds() / 3600, 2)


def microseconds(value) -> int:
    """A duration as whole microseconds (backends hand back timedelta or a number)."""
    if value is None:
        return 0
    if isinstance(value, timedelta):
        return (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
    return int(value)


def rate(name: str, totals: dict) -> float | None:
    if name == "average_handling_hours":
        return handling_hours(totals.get("handling_us") or 0, totals.get("closed") or 0)
    num, den = RATIOS[name]
    return ratio(totals.get(num) or 0, totals.get(den) or 0)


def rates_from(totals: dict) -> dict[str, float | None]:
    return {name: rate(name, totals) for name in RATE_NAMES}
