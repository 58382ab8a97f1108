"""Case deadlines counted in working hours on a Chinese working calendar.

Chinese service rules (接诉即办, 12345 hotlines, grid cases) usually state time limits in working
hours or working days, and the State Council moves working days around every year: public
holidays fall on weekdays, and some Saturdays and Sundays become working days (调休). A plain
"Mon–Fri, 9 to 17:30" rule is therefore wrong several weeks a year, so the calendar carries both
sets of exceptions explicitly.

This module is pure Python on purpose: deadline arithmetic must be testable without a database
and reusable from tasks, the API and data migrations alike. The product may keep its own,
editable calendar and build a ``WorkCalendar`` from it; ``CN_2026`` is only a default.

All arithmetic is done on local wall-clock time in integer microseconds, so repeated additions
never drift and results are exact to the second. Working periods are wall-clock times: in a zone
with daylight saving time a transition inside a working period counts its wall-clock length
(China has had no DST since 1991, so for the intended zone this never matters).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "CN_2026",
    "WorkCalendar",
    "add_calendar_hours",
    "deadline",
]

_US_PER_HOUR = 3_600_000_000
_US_PER_DAY = 86_400_000_000
_ONE_DAY = timedelta(days=1)


def _require_aware(name: str, value: datetime) -> None:
    """Naive datetimes are refused because guessing their zone silently shifts deadlines by the
    server's UTC offset (eight hours for Beijing), the classic bug this module exists to stop."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")


def _hours_to_us(hours: float) -> int:
    """Hours arrive as floats or Decimals from forms and rules; rejecting NaN, infinities and
    negatives here keeps every later loop finite and moving forward."""
    if isinstance(hours, bool):
        raise TypeError("hours must be a number, not bool")
    value = float(hours)
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"hours must be finite, got {hours!r}")
    if value < 0:
        raise ValueError(f"hours must not be negative, got {hours!r}")
    return round(value * _US_PER_HOUR)


def _time_us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def _weekdays_between(d1: date, d2: date) -> int:
    """Mon–Fri count in [d1, d2) in constant time, so spans of years cost nothing."""
    days = (d2 - d1).days
    weeks, rest = divmod(days, 7)
    first = d1.weekday()
    return weeks * 5 + sum(1 for i in range(rest) if (first + i) % 7 < 5)


def _nth_weekday(d: date, n: int) -> date:
    """The n-th Mon–Fri day on or after ``d`` (n >= 1), in constant time."""
    first = d.weekday()
    if first >= 5:
        d += timedelta(days=7 - first)
        first = 0
    weeks, rest = divmod(first + n - 1, 5)
    return d + timedelta(days=7 * weeks + rest - first)


def _count_in(sorted_days: tuple[date, ...], d1: date, d2: date) -> int:
    return bisect_left(sorted_days, d2) - bisect_left(sorted_days, d1)


@dataclass(frozen=True)
class WorkCalendar:
    """Working time of one administration: daily periods plus dated exceptions.

    ``holidays`` may list weekend dates too (published tables do); only the exceptions that
    change anything are used internally. A date cannot be both a holiday and a make-up day,
    because such a table is a typo and no reading of it is safe.
    """

    periods: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13, 30), time(17, 30)))
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    tz: str = "Asia/Shanghai"

    def __post_init__(self) -> None:
        # Accept lists and sets from callers (forms, fixtures) but keep the instance hashable.
        object.__setattr__(self, "periods", tuple((p[0], p[1]) for p in self.periods))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        if not self.periods:
            raise ValueError("a working calendar needs at least one working period")
        previous_end = -1
        for start, end in self.periods:
            if not isinstance(start, time) or not isinstance(end, time):
                raise TypeError("working periods must be pairs of datetime.time")
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("working periods are local wall-clock times; drop their tzinfo")
            if _time_us(start) >= _time_us(end):
                raise ValueError(f"working period {start}–{end} must end after it starts")
            if _time_us(start) < previous_end:
                raise ValueError("working periods must be sorted and must not overlap")
            previous_end = _time_us(end)
        clash = self.holidays & self.workdays
        if clash:
            days = ", ".join(str(d) for d in sorted(clash))
            raise ValueError(f"dates both holiday and make-up working day: {days}")
        try:  # fail at construction, not at the first deadline computed weeks later
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise ValueError(f"unknown time zone {self.tz!r}") from exc

    # -- derived data, computed once per instance ------------------------------------------

    @cached_property
    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @cached_property
    def _spans(self) -> tuple[tuple[int, int], ...]:
        return tuple((_time_us(s), _time_us(e)) for s, e in self.periods)

    @cached_property
    def _day_us(self) -> int:
        return sum(e - s for s, e in self._spans)

    @cached_property
    def _weekday_holidays(self) -> tuple[date, ...]:
        return tuple(sorted(d for d in self.holidays if d.weekday() < 5))

    @cached_property
    def _weekend_workdays(self) -> tuple[date, ...]:
        return tuple(sorted(d for d in self.workdays if d.weekday() >= 5))

    @cached_property
    def _special(self) -> tuple[date, ...]:
        """Only these dates break the Mon–Fri rhythm, so the stretches between them can be
        crossed arithmetically instead of walked day by day."""
        return tuple(sorted(self._weekday_holidays + self._weekend_workdays))

    # -- helpers ------------------------------------------------------------------------------

    def _local(self, t: datetime) -> tuple[date, int]:
        local = t.astimezone(self._zone)
        return local.date(), _time_us(local.time())

    def _aware(self, d: date, us: int) -> datetime:
        naive = datetime(d.year, d.month, d.day) + timedelta(microseconds=us)
        return naive.replace(tzinfo=self._zone)

    def _working_in_day(self, d: date, lo: int, hi: int) -> int:
        if lo >= hi or not self.is_working_day(d):
            return 0
        return sum(max(0, min(e, hi) - max(s, lo)) for s, e in self._spans)

    def _working_days_between(self, d1: date, d2: date) -> int:
        """Working days in [d1, d2) in O(log n): weekdays, minus weekday holidays, plus weekend
        make-up days."""
        return (
            _weekdays_between(d1, d2)
            - _count_in(self._weekday_holidays, d1, d2)
            + _count_in(self._weekend_workdays, d1, d2)
        )

    def _nth_working_day(self, d: date, n: int) -> date:
        """The n-th working day on or after ``d`` (n >= 1). Between two exceptional dates the
        calendar is plain Mon–Fri, so each stretch is crossed in constant time and the cost is
        proportional to the holidays passed, not to the days: a deadline years away is as cheap
        as one tomorrow."""
        special = self._special
        i = bisect_left(special, d)
        while i < len(special):
            exceptional = special[i]
            plain = _weekdays_between(d, exceptional)
            if plain >= n:
                break
            n -= plain
            if exceptional.weekday() >= 5:  # a make-up day counts; a weekday holiday does not
                n -= 1
                if n == 0:
                    return exceptional
            d = exceptional + _ONE_DAY
            i += 1
        return _nth_weekday(d, n)

    # -- public API ---------------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        """Make-up days win over the weekend and holidays win over weekdays; the two sets are
        disjoint, so the order of the checks cannot change the answer."""
        if isinstance(d, datetime):
            raise TypeError("is_working_day takes a date; convert datetimes to local dates first")
        if d in self.workdays:
            return True
        if d in self.holidays:
            return False
        return d.weekday() < 5

    def next_working_instant(self, t: datetime) -> datetime:
        """Periods are half-open: 12:00 sharp is already lunch, so a clock started then runs from
        13:30, and 17:30 sharp runs from the next working morning."""
        _require_aware("t", t)
        d, us = self._local(t)
        if self.is_working_day(d):
            for s, e in self._spans:
                if us < e:
                    if us >= s:
                        return t.astimezone(self._zone)
                    return self._aware(d, s)
        d += _ONE_DAY
        while not self.is_working_day(d):
            d += _ONE_DAY
        return self._aware(d, self._spans[0][0])

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """Zero hours returns ``start`` itself (in the calendar zone): a deadline of "immediately"
        must not move a case reported at night to the next morning. A positive amount that ends
        exactly at the end of a period returns that end (e.g. 17:30), not the next morning,
        because that is the last moment the deadline is still met."""
        _require_aware("start", start)
        remaining = _hours_to_us(hours)
        if hours == 0:
            return start.astimezone(self._zone)
        spans, day_us = self._spans, self._day_us
        d, us = self._local(start)

        # The partial first day.
        if self.is_working_day(d):
            for s, e in spans:
                if us >= e:
                    continue
                begin = max(s, us)
                if remaining <= e - begin:
                    return self._aware(d, begin + remaining)
                remaining -= e - begin
        d += _ONE_DAY

        # Whole days: find the working day on which the clock runs out without walking the days
        # in between. Keeping the last day's share in (0, day] makes a deadline that uses up a
        # whole day land at that day's closing time, not at the next morning.
        days_needed = max(1, -(-remaining // day_us))
        remaining -= (days_needed - 1) * day_us
        d = self._nth_working_day(d, days_needed)
        for s, e in spans:
            if remaining <= e - s:
                return self._aware(d, s + remaining)
            remaining -= e - s
        raise AssertionError("unreachable: the last day's share never exceeds a working day")

    def working_hours_between(self, a: datetime, b: datetime) -> float:
        """Counted in closed form (no day loop) so reports over years of cases stay cheap; the
        sign follows the order of the arguments so elapsed and remaining time share one call."""
        _require_aware("a", a)
        _require_aware("b", b)
        if b < a:
            return -self.working_hours_between(b, a)
        da, ua = self._local(a)
        db, ub = self._local(b)
        if da == db:
            total = self._working_in_day(da, ua, ub)
        else:
            total = (
                self._working_in_day(da, ua, _US_PER_DAY)
                + self._working_days_between(da + _ONE_DAY, db) * self._day_us
                + self._working_in_day(db, 0, ub)
            )
        return total / _US_PER_HOUR


def add_calendar_hours(start: datetime, hours: float) -> datetime:
    """Elapsed hours are physical time, so the sum is taken in UTC: adding to a zoned datetime
    directly would do wall-clock arithmetic and be an hour off across a DST change. The result
    keeps ``start``'s zone."""
    _require_aware("start", start)
    delta = timedelta(microseconds=_hours_to_us(hours))
    return (start.astimezone(UTC) + delta).astimezone(start.tzinfo)


def deadline(start: datetime, hours: float, *, working: bool, calendar: WorkCalendar) -> datetime:
    """One entry point for both kinds of time limit, so callers store a rule (hours + flag) and
    never branch themselves; the result is always in the calendar's zone for display."""
    if working:
        return calendar.add_working_hours(start, hours)
    return add_calendar_hours(start, hours).astimezone(ZoneInfo(calendar.tz))


# -- China 2026 ------------------------------------------------------------------------------
# Source: 国务院办公厅关于2026年部分节假日安排的通知 (dated 2025-11-04, published by Xinhua the
# same day). Checked against the text of the notice as reprinted by gmw.cn / Xinhua; re-check
# against the official gov.cn text before relying on it. The product keeps an editable copy.
#
#   Festival   Days off (放假)                      Make-up working days (上班)
#   元旦        01-01 Thu – 01-03 Sat  (3 days)      01-04 Sun
#   春节        02-15 Sun – 02-23 Mon  (9 days)      02-14 Sat, 02-28 Sat
#   清明节      04-04 Sat – 04-06 Mon  (3 days)      —
#   劳动节      05-01 Fri – 05-05 Tue  (5 days)      05-09 Sat
#   端午节      06-19 Fri – 06-21 Sun  (3 days)      —
#   中秋节      09-25 Fri – 09-27 Sun  (3 days)      —
#   国庆节      10-01 Thu – 10-07 Wed  (7 days)      09-20 Sun, 10-10 Sat

_CN_2026_HOLIDAY_RANGES: tuple[tuple[str, date, date], ...] = (
    ("元旦", date(2026, 1, 1), date(2026, 1, 3)),
    ("春节", date(2026, 2, 15), date(2026, 2, 23)),
    ("清明节", date(2026, 4, 4), date(2026, 4, 6)),
    ("劳动节", date(2026, 5, 1), date(2026, 5, 5)),
    ("端午节", date(2026, 6, 19), date(2026, 6, 21)),
    ("中秋节", date(2026, 9, 25), date(2026, 9, 27)),
    ("国庆节", date(2026, 10, 1), date(2026, 10, 7)),
)

_CN_2026_WORKDAYS: tuple[tuple[str, date], ...] = (
    ("元旦", date(2026, 1, 4)),
    ("春节", date(2026, 2, 14)),
    ("春节", date(2026, 2, 28)),
    ("劳动节", date(2026, 5, 9)),
    ("国庆节", date(2026, 9, 20)),
    ("国庆节", date(2026, 10, 10)),
)


def _expand(ranges: tuple[tuple[str, date, date], ...]) -> frozenset[date]:
    return frozenset(
        first + timedelta(days=i)
        for _, first, last in ranges
        for i in range((last - first).days + 1)
    )


CN_2026 = WorkCalendar(
    holidays=_expand(_CN_2026_HOLIDAY_RANGES),
    workdays=frozenset(d for _, d in _CN_2026_WORKDAYS),
    tz="Asia/Shanghai",
)
