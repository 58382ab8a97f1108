"""Working-hour deadlines: hand-checked instants, edge instants of the working day, a brute-force
per-minute reference, and properties over random calendars.

The calendars here are frozen in the test on purpose; nothing depends on ``CN_2026``'s data,
which the product lets administrators edit."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.cases.workcalendar import (
    CN_2026,
    WorkCalendar,
    add_calendar_hours,
    deadline,
)

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")

PLAIN = WorkCalendar()
# Golden Week as in the brief: Oct 1–7 off, Sunday Sep 27 and Saturday Oct 10 worked.
GOLDEN = WorkCalendar(
    holidays=frozenset(date(2026, 10, d) for d in range(1, 8)),
    workdays=frozenset({date(2026, 9, 27), date(2026, 10, 10)}),
)


def at(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=SH)


# 2026-03-02 is a Monday; 2026-03-06 a Friday.
MON = (3, 2)


# -- add_working_hours: hand-checked instants --------------------------------------------------


def test_within_one_period():
    assert PLAIN.add_working_hours(at(*MON, 9), 2) == at(*MON, 11)


def test_crossing_lunch():
    assert PLAIN.add_working_hours(at(*MON, 11), 2) == at(*MON, 14, 30)


def test_crossing_the_evening():
    assert PLAIN.add_working_hours(at(*MON, 16, 30), 2) == at(3, 3, 10)


def test_over_a_weekend():
    assert PLAIN.add_working_hours(at(3, 6, 16, 30), 2) == at(3, 9, 10)


def test_golden_week_uses_the_make_up_saturday():
    # Wed 09-30 16:00: 1.5 h that day; Oct 1–7 off; Thu 8th 7 h; Fri 9th 7 h; Sat 10th
    # (make-up) 7 h = 22.5 h; Sun 11th off; the last 1.5 h run Mon 12th 09:00–10:30.
    assert GOLDEN.add_working_hours(at(9, 30, 16), 24) == at(10, 12, 10, 30)


def test_golden_week_without_the_make_up_saturday_is_a_day_later():
    no_makeup = WorkCalendar(holidays=GOLDEN.holidays)
    assert no_makeup.add_working_hours(at(9, 30, 16), 24) == at(10, 13, 10, 30)


def test_make_up_sunday_counts():
    # Fri 09-25 17:00 + 1 h: half an hour on Friday, the rest on the make-up Sunday 09-27.
    assert GOLDEN.add_working_hours(at(9, 25, 17), 1) == at(9, 27, 9, 30)


def test_start_on_a_holiday():
    assert GOLDEN.add_working_hours(at(10, 3, 10), 1) == at(10, 8, 10)


def test_start_in_lunch_break():
    assert PLAIN.add_working_hours(at(*MON, 12, 30), 1) == at(*MON, 14, 30)


def test_start_exactly_at_noon_counts_from_afternoon():
    assert PLAIN.add_working_hours(at(*MON, 12), 0.5) == at(*MON, 14)


def test_start_exactly_at_close_counts_from_next_morning():
    assert PLAIN.add_working_hours(at(*MON, 17, 30), 1) == at(3, 3, 10)


def test_start_before_opening():
    assert PLAIN.add_working_hours(at(*MON, 6), 1) == at(*MON, 10)


def test_deadline_ending_at_period_end_is_that_end():
    assert PLAIN.add_working_hours(at(*MON, 9), 3) == at(*MON, 12)
    assert PLAIN.add_working_hours(at(*MON, 9), 7) == at(*MON, 17, 30)
    # A whole number of working days from an opening ends at a closing, not the next morning.
    assert PLAIN.add_working_hours(at(*MON, 9), 35) == at(3, 6, 17, 30)
    assert PLAIN.add_working_hours(at(*MON, 9), 7 * 5 * 10) == at(5, 8, 17, 30)


def test_fractional_hours():
    assert PLAIN.add_working_hours(at(*MON, 9), 0.25) == at(*MON, 9, 15)
    assert PLAIN.add_working_hours(at(*MON, 11), 2.5) == at(*MON, 15)
    assert PLAIN.add_working_hours(at(*MON, 9), 1 / 3600) == at(*MON, 9, 0, 1)
    assert PLAIN.add_working_hours(at(*MON, 9), Decimal("1.5")) == at(*MON, 10, 30)


def test_zero_hours_returns_start_unchanged_even_at_night():
    night = at(*MON, 23, 15, 7)
    assert PLAIN.add_working_hours(night, 0) == night
    utc = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    result = PLAIN.add_working_hours(utc, 0.0)
    assert result == utc
    assert result.tzinfo == SH


@pytest.mark.parametrize("hours", [-1, -0.001, float("nan"), float("inf")])
def test_bad_hours_raise(hours):
    with pytest.raises(ValueError):
        PLAIN.add_working_hours(at(*MON, 9), hours)


def test_long_deadline_across_years():
    # 52 plain weeks of 35 h each land exactly 52 weeks later at Friday closing.
    assert PLAIN.add_working_hours(at(*MON, 9), 35 * 52) == at(3, 6, 17, 30) + timedelta(weeks=51)


# -- time zones --------------------------------------------------------------------------------


def test_utc_input_is_converted():
    start = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    result = PLAIN.add_working_hours(start, 1)
    assert result == at(*MON, 10)
    assert result.tzinfo == SH
    assert result.utcoffset() == timedelta(hours=8)


def test_utc_evening_is_next_morning_in_shanghai():
    # Sunday 2026-03-01 23:30 UTC is Monday 07:30 in Shanghai: before opening, on a working day.
    start = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    assert PLAIN.add_working_hours(start, 1) == at(*MON, 10)


@pytest.mark.parametrize(
    "call",
    [
        lambda t: PLAIN.add_working_hours(t, 1),
        lambda t: PLAIN.next_working_instant(t),
        lambda t: PLAIN.working_hours_between(t, at(*MON, 9)),
        lambda t: PLAIN.working_hours_between(at(*MON, 9), t),
        lambda t: add_calendar_hours(t, 1),
        lambda t: deadline(t, 1, working=True, calendar=PLAIN),
        lambda t: deadline(t, 1, working=False, calendar=PLAIN),
    ],
)
def test_naive_input_raises(call):
    with pytest.raises(ValueError, match="aware"):
        call(datetime(2026, 3, 2, 9))


# -- is_working_day / next_working_instant -----------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 9, 30), True),  # Wednesday
        (date(2026, 9, 26), False),  # Saturday
        (date(2026, 9, 27), True),  # make-up Sunday
        (date(2026, 10, 1), False),  # holiday Thursday
        (date(2026, 10, 10), True),  # make-up Saturday
        (date(2026, 10, 11), False),  # Sunday
    ],
)
def test_is_working_day(day, expected):
    assert GOLDEN.is_working_day(day) is expected


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (at(*MON, 10, 5, 7), at(*MON, 10, 5, 7)),  # inside a period: unchanged
        (at(*MON, 9), at(*MON, 9)),  # opening is working time
        (at(*MON, 7), at(*MON, 9)),
        (at(*MON, 12), at(*MON, 13, 30)),  # periods are half-open
        (at(*MON, 12, 45), at(*MON, 13, 30)),
        (at(*MON, 17, 30), at(3, 3, 9)),
        (at(3, 6, 18), at(3, 9, 9)),  # Friday evening → Monday
        (at(9, 30, 18), at(10, 8, 9)),  # eve of Golden Week → first day back
        (at(9, 26, 22), at(9, 27, 9)),  # Saturday night → make-up Sunday
    ],
)
def test_next_working_instant(t, expected):
    assert GOLDEN.next_working_instant(t) == expected


def test_next_working_instant_returns_calendar_zone():
    result = PLAIN.next_working_instant(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # 10:00 local
    assert result == at(*MON, 10)
    assert result.tzinfo == SH


# -- working_hours_between ---------------------------------------------------------------------


def test_between_same_day_across_lunch():
    assert PLAIN.working_hours_between(at(*MON, 11), at(*MON, 14, 30)) == 2


def test_between_over_golden_week():
    assert GOLDEN.working_hours_between(at(9, 30, 16), at(10, 12, 10, 30)) == 24


def test_between_reversed_is_negative():
    assert GOLDEN.working_hours_between(at(10, 12, 10, 30), at(9, 30, 16)) == -24


def test_between_non_working_instants_is_zero():
    assert PLAIN.working_hours_between(at(3, 6, 18), at(3, 9, 8)) == 0
    assert PLAIN.working_hours_between(at(*MON, 12), at(*MON, 13, 30)) == 0


def test_between_mixed_zones():
    a = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Mon 09:00 Shanghai
    b = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)  # Tue 09:00 Shanghai
    assert PLAIN.working_hours_between(a, b) == 7


# -- calendar hours and deadline() -------------------------------------------------------------


def test_calendar_hours_in_shanghai():
    # Asia/Shanghai has no DST: 72 elapsed hours is exactly three wall-clock days.
    assert add_calendar_hours(at(3, 7, 22), 72) == at(3, 10, 22)
    assert add_calendar_hours(at(*MON, 9), 1.5) == at(*MON, 10, 30)
    assert add_calendar_hours(at(*MON, 9), 0) == at(*MON, 9)


def test_calendar_hours_keep_start_zone_and_count_real_time_across_dst():
    # New York springs forward on 2026-03-08: 24 elapsed hours read as 13:00 the next day.
    start = datetime(2026, 3, 7, 12, 0, tzinfo=NY)
    result = add_calendar_hours(start, 24)
    assert result.tzinfo == NY
    assert (result.year, result.month, result.day, result.hour) == (2026, 3, 8, 13)
    # Same-tzinfo subtraction is wall-clock in Python (it would say 25 h), so compare in UTC.
    assert result.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=24)


def test_calendar_hours_reject_negative():
    with pytest.raises(ValueError):
        add_calendar_hours(at(*MON, 9), -1)


def test_deadline_dispatches_and_returns_calendar_zone():
    start = datetime(2026, 9, 30, 8, 0, tzinfo=UTC)  # Wed 16:00 Shanghai
    working = deadline(start, 24, working=True, calendar=GOLDEN)
    plain = deadline(start, 24, working=False, calendar=GOLDEN)
    assert working == at(10, 12, 10, 30)
    assert plain == at(10, 1, 16)
    assert working.tzinfo == SH and plain.tzinfo == SH


# -- construction ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"periods": ()},
        {"periods": ((time(12), time(9)),)},
        {"periods": ((time(9), time(12)), (time(11), time(14)))},
        {"periods": ((time(13), time(14)), (time(9), time(12)))},
        {"holidays": frozenset({date(2026, 9, 27)}), "workdays": frozenset({date(2026, 9, 27)})},
    ],
)
def test_invalid_calendars_raise(kwargs):
    with pytest.raises(ValueError):
        WorkCalendar(**kwargs)


def test_unknown_zone_raises():
    with pytest.raises(ValueError, match="time zone"):
        WorkCalendar(tz="Mars/Olympus_Mons")


def test_plain_collections_are_accepted_and_hashable():
    cal = WorkCalendar(
        periods=[(time(8), time(20))],
        holidays={date(2026, 10, 1)},
        workdays=[date(2026, 10, 10)],
    )
    assert cal == WorkCalendar(
        periods=((time(8), time(20)),),
        holidays=frozenset({date(2026, 10, 1)}),
        workdays=frozenset({date(2026, 10, 10)}),
    )
    assert hash(cal)
    # Wed 19–20 (1 h), Thu holiday, Fri (12 h), weekend, Mon–Fri (60 h), make-up Sat (12 h).
    assert cal.add_working_hours(at(9, 30, 19), 85) == at(10, 10, 20)
    assert cal.add_working_hours(at(9, 30, 19), 13) == at(10, 2, 20)


def test_cn_2026_is_well_formed():
    # Shape only, not the dates themselves: every exception is in 2026 and every make-up
    # working day falls on a weekend (otherwise it would change nothing).
    assert CN_2026.tz == "Asia/Shanghai"
    assert all(d.year == 2026 for d in CN_2026.holidays | CN_2026.workdays)
    assert all(d.weekday() >= 5 for d in CN_2026.workdays)


# -- speed -------------------------------------------------------------------------------------


def _best_of(repeats: int, fn) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = clock.perf_counter()
        fn()
        best = min(best, clock.perf_counter() - t0)
    return best


def test_long_deadlines_do_not_walk_minutes_or_days():
    # A holiday every Friday for two years (the worst realistic case) and a plain calendar
    # with a deadline ~550 years out: both must be far below a per-day loop's cost.
    dense = WorkCalendar(
        holidays=frozenset(date(2026, 1, 2) + timedelta(weeks=i) for i in range(104))
    )
    start = at(*MON, 10)
    dense.add_working_hours(start, 1)  # warm the per-instance caches
    assert _best_of(5, lambda: dense.add_working_hours(start, 2000)) < 0.005
    assert _best_of(5, lambda: PLAIN.add_working_hours(start, 1_000_000)) < 0.002
    far = PLAIN.add_working_hours(start, 1_000_000)
    assert PLAIN.working_hours_between(start, far) == 1_000_000


# -- reference and properties ------------------------------------------------------------------


def _reference_add_minutes(cal: WorkCalendar, start: datetime, minutes: int) -> datetime:
    """Deliberately naive: walk minute by minute, counting those inside a working period."""
    t = start
    while minutes:
        local = t.astimezone(SH)
        if cal.is_working_day(local.date()) and any(s <= local.time() < e for s, e in cal.periods):
            minutes -= 1
        t += timedelta(minutes=1)
    return t


dates_2026 = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31))
# The first three are minute-aligned so the per-minute reference can check them exactly; the
# others exercise periods that end on odd seconds and a day that is almost all working time.
PERIOD_SETS = [
    PLAIN.periods,
    ((time(8), time(20)),),
    ((time(8, 30), time(11, 45)), (time(14), time(18)), (time(19), time(21))),
    ((time(8, 0, 30), time(12, 0, 15)), (time(13), time(17, 59, 59))),
    ((time(0), time(23, 59, 59)),),
]


@st.composite
def calendars(draw, periods=PERIOD_SETS):
    holidays = draw(st.frozensets(dates_2026, max_size=60))
    workdays = draw(st.frozensets(dates_2026, max_size=20)) - holidays
    return WorkCalendar(
        periods=draw(st.sampled_from(periods)), holidays=holidays, workdays=workdays
    )


starts_2026 = st.datetimes(
    min_value=datetime(2026, 1, 1),
    max_value=datetime(2026, 12, 31, 23, 59, 59),
    timezones=st.sampled_from([SH, UTC]),
)


def _is_working_or_period_end(cal: WorkCalendar, t: datetime) -> bool:
    local = t.astimezone(SH)
    if cal.next_working_instant(t) == t:
        return True
    return cal.is_working_day(local.date()) and local.time() in {e for _, e in cal.periods}


@settings(max_examples=300, deadline=None)
@given(
    cal=st.sampled_from([PLAIN, GOLDEN]) | calendars(), start=starts_2026, hours=st.floats(0, 500)
)
def test_between_inverts_add(cal, start, hours):
    end = cal.add_working_hours(start, hours)
    assert abs(cal.working_hours_between(start, end) - hours) * 3600 <= 1
    assert end >= start
    assert end.tzinfo == SH
    if hours > 0:
        assert _is_working_or_period_end(cal, end)


@settings(max_examples=150, deadline=None)
@given(
    cal=calendars(PERIOD_SETS[:3]),
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(SH)
    ).map(lambda t: t.replace(second=0, microsecond=0)),
    minutes=st.integers(1, 30 * 60),
)
def test_add_matches_minute_by_minute_reference(cal, start, minutes):
    assert cal.add_working_hours(start, minutes / 60) == _reference_add_minutes(cal, start, minutes)


@settings(max_examples=200, deadline=None)
@given(cal=calendars(), a=starts_2026, b=starts_2026, c=starts_2026)
def test_between_is_additive_and_antisymmetric(cal, a, b, c):
    ab = cal.working_hours_between(a, b)
    assert ab == -cal.working_hours_between(b, a)
    assert abs(ab + cal.working_hours_between(b, c) - cal.working_hours_between(a, c)) < 1e-9


@settings(max_examples=200, deadline=None)
@given(cal=calendars(), start=starts_2026, h1=st.floats(0, 300), h2=st.floats(0, 300))
def test_add_is_monotonic_and_composes(cal, start, h1, h2):
    lo, hi = sorted((h1, h2))
    assert cal.add_working_hours(start, lo) <= cal.add_working_hours(start, hi)
    if lo > 0:
        two_steps = cal.add_working_hours(cal.add_working_hours(start, lo), hi)
        assert abs((two_steps - cal.add_working_hours(start, lo + hi)).total_seconds()) <= 1
