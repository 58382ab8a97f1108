"""Ranking providers for one demand, with the reasons shown to the person who offers it.

Who is considered: verified, not archived providers that offer the demand's service and serve
its place — a street, community or grid listed in their areas, or within their radius.
Who is eligible among them: free in the demand's window (a weekly slot long enough for the
service, no absence overlapping it; no slots registered means "by arrangement") and below
their capacity. The score, highest first (eligible ones before the others):

    area         +30 same home grid, +25 serves the grid, +20 the community, +15 the street,
                 +10 only within the radius
    distance     −4 per km from the provider's point, at most −20
    time         +25 a slot fits the window, +5 by arrangement
    load         +10 × the share of capacity still free
    rating       (Bayesian mean of ratings with two prior ratings of 4 − 4) × 10
    past work    +8 per service already done for this person, at most +24
    experience   +1 per 10 completed services, at most +5

Two queries do the reading (areas, providers) and two small ones the rest (this person's past
services, absences overlapping the window); the scoring is plain Python over the candidates."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from .models import Demand, Provider, ProviderAbsence, ProviderArea

# Marked for translation, translated where shown (fmt_slot); the slot parser reads the Chinese.
WEEKDAYS = (
    gettext_noop("周一"),
    gettext_noop("周二"),
    gettext_noop("周三"),
    gettext_noop("周四"),
    gettext_noop("周五"),
    gettext_noop("周六"),
    gettext_noop("周日"),
)
MAX_RADIUS_M = 20_000
PRIOR_RATINGS, PRIOR_MEAN = 2, 4.0


@dataclass
class Candidate:
    provider_id: int
    name: str
    kind: str
    score: float
    eligible: bool
    reasons: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    distance_m: float | None = None
    active_count: int = 0
    capacity: int = 0
    rating: float | None = None
    flags: frozenset[str] = frozenset()  # "away", "off_slot", "full": why it is not eligible
    facts: tuple = ()  # what the reasons are written from

    def as_dict(self) -> dict:
        return {
            "provider_id": self.provider_id,
            "name": self.name,
            "kind": self.kind,
            "score": round(self.score, 1),
            "eligible": self.eligible,
            "reasons": self.reasons,
            "problems": self.problems,
            "distance_m": None if self.distance_m is None else round(self.distance_m),
            "load": f"{self.active_count}/{self.capacity}",
            "rating": self.rating,
        }


@dataclass
class Ranking:
    candidates: list[Candidate]
    considered: int  # offer the service and serve the place
    eligible: int
    reason: str = ""  # why nobody is eligible, when nobody is


def distance_m(lat1, lng1, lat2, lng2) -> float | None:
    if None in (lat1, lng1, lat2, lng2):
        return None
    # Equirectangular is exact enough within a district and much cheaper than haversine.
    x = math.radians(lng2 - lng1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return 6_371_000 * math.hypot(x, y)


def window_segments(start: datetime, end: datetime) -> list[tuple[int, int, int]]:
    """The window cut at local midnights into (weekday, start minute, end minute), at most a
    week of it (a longer window repeats the same weekdays)."""
    start, end = timezone.localtime(start), timezone.localtime(end)
    end = min(end, start + timedelta(days=7))
    out = []
    cursor = start
    while cursor < end:
        midnight = (cursor + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        stop = min(end, midnight)
        a = cursor.hour * 60 + cursor.minute
        b = 1440 if stop == midnight else stop.hour * 60 + stop.minute
        if b > a:
            out.append((cursor.weekday(), a, b))
        cursor = stop
    return out


def slot_fit(slots, segments, needed: int) -> tuple[int, int, int] | None:
    """The first weekly slot that overlaps the window for at least `needed` minutes."""
    for day, a, b in segments:
        for s_day, s_a, s_b in slots:
            if s_day == day:
                lo, hi = max(a, s_a), min(b, s_b)
                if hi - lo >= needed:
                    return day, lo, hi
    return None


def fmt_slot(day: int, a: int, b: int) -> str:
    return f"{_(WEEKDAYS[day])} {a // 60:02d}:{a % 60:02d}–{b // 60:02d}:{b % 60:02d}"


def _point(demand: Demand) -> tuple[float | None, float | None]:
    if demand.lat is not None and demand.lng is not None:
        return demand.lat, demand.lng
    grid = demand.grid
    return grid.center_lat, grid.center_lng


def _sql(query: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


# The hot path is plain SQL: building these queries through the ORM cost more than running them
# (measured with bench/matching.py). Table names come from the models.
_AREA = ProviderArea._meta.db_table
_LINK = Provider.services.through._meta.db_table
_PROVIDER = Provider._meta.db_table
_ABSENCE = ProviderAbsence._meta.db_table
_DEMAND = Demand._meta.db_table

# Providers offering the service whose areas cover the place (with the level), and providers
# offering it that serve by radius around a point inside the bounding box.
_CANDIDATES_SQL = f"""
SELECT a.provider_id, 25 FROM {_AREA} a
  JOIN {_LINK} l ON l.provider_id = a.provider_id AND l.service_id = %s
 WHERE a.grid_id = %s
UNION ALL
SELECT a.provider_id, 20 FROM {_AREA} a
  JOIN {_LINK} l ON l.provider_id = a.provider_id AND l.service_id = %s
 WHERE a.community_id = %s
UNION ALL
SELECT a.provider_id, 15 FROM {_AREA} a
  JOIN {_LINK} l ON l.provider_id = a.provider_id AND l.service_id = %s
 WHERE a.street_id = %s
"""  # noqa: S608
_RADIUS_SQL = f"""
UNION ALL
SELECT p.id, 0 FROM {_PROVIDER} p
  JOIN {_LINK} l ON l.provider_id = p.id AND l.service_id = %s
 WHERE p.radius_m > 0 AND p.lat BETWEEN %s AND %s AND p.lng BETWEEN %s AND %s
"""  # noqa: S608
_PROVIDERS_SQL = f"""
SELECT id, name, kind, home_grid_id, lat, lng, radius_m, capacity, active_count,
       completed_count, rating_sum, rating_count, slots
  FROM {_PROVIDER}
 WHERE verification = 'verified' AND archived_at IS NULL AND id IN ({{ids}})
"""  # noqa: S608
_PAST_SQL = f"""
SELECT provider_id, COUNT(*) FROM {_DEMAND}
 WHERE resident_id = %s AND status = 'done' AND provider_id IS NOT NULL
 GROUP BY provider_id
"""  # noqa: S608
_ABSENCE_SQL = f"""
SELECT provider_id, starts_at, ends_at FROM {_ABSENCE} WHERE ends_at > %s AND starts_at < %s
"""  # noqa: S608


def rank(
    demand: Demand, *, limit: int = 20, exclude: set[int] | frozenset = frozenset()
) -> Ranking:
    lat, lng = _point(demand)
    segments = window_segments(demand.window_start, demand.window_end)
    window_minutes = sum(b - a for _d, a, b in segments)
    needed = min(int(float(demand.service.default_hours) * 60), window_minutes) or 1
    service_id = demand.service_id

    # The most specific level at which each provider's areas cover the demand's place
    # (0: only its radius might).
    query = _CANDIDATES_SQL
    params = [
        service_id,
        demand.grid_id,
        service_id,
        demand.community_id,
        service_id,
        demand.street_id,
    ]
    if lat is not None:
        dlat = MAX_RADIUS_M / 111_000
        dlng = dlat / max(math.cos(math.radians(lat)), 0.1)
        query += _RADIUS_SQL
        params += [service_id, lat - dlat, lat + dlat, lng - dlng, lng + dlng]
    level: dict[int, int] = {}
    for pid, lv in _sql(query, params):
        if lv > level.get(pid, -1):
            level[pid] = lv
    ids = [pid for pid in level if pid not in exclude]
    rows = []
    if ids:
        marks = ",".join(["%s"] * len(ids))
        rows = _sql(_PROVIDERS_SQL.format(ids=marks), ids)

    past: dict[int, int] = dict(_sql(_PAST_SQL, [demand.resident_id])) if demand.resident_id else {}
    adapt = connection.ops.adapt_datetimefield_value
    away: dict[int, tuple] = {
        pid: (a, b)
        for pid, a, b in _sql(_ABSENCE_SQL, [adapt(demand.window_start), adapt(demand.window_end)])
    }

    candidates = []
    for (
        pid,
        name,
        kind,
        home_grid_id,
        p_lat,
        p_lng,
        radius_m,
        capacity,
        active,
        completed,
        rating_sum,
        rating_count,
        slots,
    ) in rows:
        dist = distance_m(lat, lng, p_lat, p_lng)
        lv = level[pid]
        if home_grid_id == demand.grid_id:
            lv = 30
        elif not lv and (dist is None or dist > radius_m):
            continue  # inside the bounding box only, not within its radius
        score = float(lv or 10)
        if dist is not None:
            score -= min(dist / 1000 * 4, 20)
        flags = set()
        if pid in away:
            flags.add("away")
        if isinstance(slots, str):  # SQLite hands JSON back as text
            slots = json.loads(slots)
        fit = None
        if slots:
            fit = slot_fit(slots, segments, needed)
            if fit:
                score += 25
            else:
                flags.add("off_slot")
        else:
            score += 5
        if active >= capacity:
            flags.add("full")
        else:
            score += 10 * (1 - active / capacity)
        mean = (rating_sum + PRIOR_MEAN * PRIOR_RATINGS) / (rating_count + PRIOR_RATINGS)
        score += (mean - PRIOR_MEAN) * 10
        times = past.get(pid, 0)
        score += min(8 * times, 24)
        score += min(completed / 10, 5)
        c = Candidate(
            pid,
            name,
            kind,
            score,
            not flags,
            distance_m=dist,
            active_count=active,
            capacity=capacity,
            rating=round(rating_sum / rating_count, 1) if rating_count else None,
            flags=frozenset(flags),
        )
        c.facts = (lv, radius_m, fit, bool(slots), rating_count, times, away.get(pid))
        candidates.append(c)

    candidates.sort(key=lambda c: (not c.eligible, -c.score, c.provider_id))
    eligible = sum(1 for c in candidates if c.eligible)
    shown = candidates[:limit]
    for c in shown:
        _explain(c)
    ranking = Ranking(shown, considered=len(candidates), eligible=eligible)
    if not eligible:
        ranking.reason = _why_none(demand, candidates, lat, lng, exclude)
    return ranking


def _local(value) -> datetime:
    if isinstance(value, str):  # a raw SQLite read without type detection
        value = datetime.fromisoformat(value)
    if timezone.is_naive(value):  # stored in UTC (USE_TZ); SQLite hands it back naive
        value = value.replace(tzinfo=UTC)
    return timezone.localtime(value)


def _explain(c: Candidate) -> None:
    """The reasons (for) and problems (against) shown beside a candidate; formatted only for
    the candidates shown, as translating them costs more than scoring."""
    lv, radius_m, fit, has_slots, rating_count, times, absence = c.facts
    reasons, problems = c.reasons, c.problems
    if lv == 30:
        reasons.append(_("同一网格"))
    elif lv:
        reasons.append({25: _("服务本网格"), 20: _("服务本社区"), 15: _("服务本街道")}[lv])
    else:
        reasons.append(_("在其服务半径 %(r).1f 公里内") % {"r": radius_m / 1000})
    if c.distance_m is not None:
        reasons.append(_("相距 %(d).1f 公里") % {"d": c.distance_m / 1000})
    if absence is not None:
        a, b = (_local(x) for x in absence)
        problems.append(_("%(a)s 至 %(b)s 暂停服务") % {"a": f"{a:%m-%d}", "b": f"{b:%m-%d}"})
    if fit:
        reasons.append(_("%(slot)s 有空") % {"slot": fmt_slot(*fit)})
    elif has_slots:
        problems.append(_("所需时段不在其服务时间内"))
    else:
        reasons.append(_("服务时间可协商"))
    load = {"a": c.active_count, "c": c.capacity}
    if "full" in c.flags:
        problems.append(_("已满负荷 (%(a)s/%(c)s)") % load)
    else:
        reasons.append(_("当前承接 %(a)s/%(c)s") % load)
    if rating_count:
        reasons.append(_("评分 %(r)s (%(n)s 次)") % {"r": c.rating, "n": rating_count})
    else:
        reasons.append(_("暂无评价"))
    if times:
        reasons.append(_("曾为其服务 %(n)s 次") % {"n": times})


def _why_none(demand, candidates, lat, lng, exclude) -> str:
    """One sentence for the unmatched list: what stands between this demand and a provider."""
    service = demand.service.name
    if candidates:
        away = sum(1 for c in candidates if "away" in c.flags)
        busy = sum(1 for c in candidates if "full" in c.flags)
        slot = sum(1 for c in candidates if "off_slot" in c.flags)
        return _(
            "%(n)s 个服务方可服务此处,但 %(slot)s 个不在所需时段、%(busy)s 个已满负荷、"
            "%(away)s 个暂停服务"
        ) % {"n": len(candidates), "slot": slot, "busy": busy, "away": away}
    offering = list(
        Provider.objects.filter(
            verification=Provider.Verification.VERIFIED,
            archived_at__isnull=True,
            services=demand.service_id,
        )
        .exclude(id__in=list(exclude))
        .values_list("lat", "lng")
    )
    if not offering:
        return _("暂无提供“%(s)s”的已认证服务方") % {"s": service}
    nearest = min(
        (d for d in (distance_m(lat, lng, a, b) for a, b in offering) if d is not None),
        default=None,
    )
    if nearest is None:
        return _("%(n)s 个服务方提供“%(s)s”,但都不服务本网格") % {
            "n": len(offering),
            "s": service,
        }
    return _("%(n)s 个服务方提供“%(s)s”,但都不服务本网格 (最近的相距 %(d).1f 公里)") % {
        "n": len(offering),
        "s": service,
        "d": nearest / 1000,
    }
