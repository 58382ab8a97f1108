"""星级网格: a grid's month scored against the rubric.

Each rubric item scores one indicator 1–5: one point, plus one for each of its four thresholds
met (value ≥ threshold, or ≤ for indicators where less is better). The grid's score is the
weighted mean of the points of the indicators that have a value that month (an indicator with
no data — no rated case, say — is left out and the weights of the rest renormalised); its stars
are the score rounded half up. A grid with no indicator value that month gets no rating.
Ranks are by score, highest first, ties sharing a rank (1, 2, 2, 4)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.db.models import Count, Sum

from yiwang.cases.models import Case
from yiwang.matching.selectors import demand_match_counts, demand_match_rate
from yiwang.org.models import Grid

from . import figures
from .models import ALL_FIGURES, LOWER_IS_BETTER, Indicator, MonthlyFigure
from .rollup import day_bounds

# The default rubric: (indicator, weight, thresholds for 2, 3, 4, 5 points).
DEFAULT_RUBRIC = [
    (Indicator.COMPLETION_RATE, 0.25, [0.80, 0.90, 0.95, 0.98]),
    (Indicator.ON_TIME_RATE, 0.20, [0.70, 0.80, 0.90, 0.95]),
    (Indicator.RESPONSE_RATE, 0.10, [0.70, 0.80, 0.90, 0.95]),
    (Indicator.SATISFACTION_RATE, 0.25, [0.80, 0.85, 0.90, 0.95]),
    (Indicator.REOPEN_RATE, 0.10, [0.10, 0.06, 0.03, 0.01]),
    (Indicator.REPEAT_COMPLAINTS, 0.10, [8, 5, 2, 0]),
]


def points(indicator: str, value: float | None, thresholds: list[float]) -> int | None:
    if value is None:
        return None
    if indicator in LOWER_IS_BETTER:
        return 1 + sum(1 for t in thresholds if value <= t)
    return 1 + sum(1 for t in thresholds if value >= t)


def score(items: list[tuple[str, float, list[float]]], values: dict) -> tuple[float | None, dict]:
    """The weighted score and the per-indicator breakdown."""
    breakdown, num, den = {}, 0.0, 0.0
    for indicator, weight, thresholds in items:
        value = values.get(indicator)
        p = points(indicator, value, thresholds)
        breakdown[indicator] = {"value": value, "points": p, "weight": weight}
        if p is not None:
            num += weight * p
            den += weight
    return (round(num / den, 4) if den else None), breakdown


def stars_for(value: float) -> int:
    return max(1, min(5, int(value + 0.5)))


def month_end(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def repeat_complaints(month: date) -> dict[int, int]:
    """Per grid: cases in the month beyond the first at the same address and category."""
    start, end = day_bounds(month, month_end(month))
    rows = (
        Case.objects.filter(reported_at__gte=start, reported_at__lt=end)
        .exclude(address="")
        .values("grid_id", "address", "category_id")
        .annotate(n=Count("id"))
        .filter(n__gte=2)
        .order_by()
    )
    out: dict[int, int] = defaultdict(int)
    for r in rows:
        out[r["grid_id"]] += r["n"] - 1
    return out


def indicator_values(month: date) -> dict[int, dict]:
    """Every grid's indicator values for a month, from the roll-ups (and the cases for repeat
    complaints). Grids without any case that month are absent."""
    sums: dict[int, dict] = {}
    for row in (
        MonthlyFigure.objects.filter(month=month)
        .values("grid_id")
        .annotate(**{f: Sum(f) for f in ALL_FIGURES})
        .order_by()
    ):
        sums[row.pop("grid_id")] = row
    repeats = repeat_complaints(month)
    start, end = day_bounds(month, month_end(month))
    demands = demand_match_counts(start, end)
    out = {}
    for grid_id, totals in sums.items():
        values = {name: figures.rate(name, totals) for name in figures.RATIOS}
        values[Indicator.REPEAT_COMPLAINTS] = repeats.get(grid_id, 0)
        values[Indicator.DEMAND_MATCH_RATE] = demand_match_rate(*demands.get(grid_id, (0, 0)))
        out[grid_id] = values
    return out


def rank(scores: dict[int, float]) -> dict[int, int]:
    """Competition ranking, highest first."""
    ordered = sorted(scores.values(), reverse=True)
    first_at: dict[float, int] = {}
    for i, s in enumerate(ordered):
        first_at.setdefault(s, i + 1)
    return {k: first_at[s] for k, s in scores.items()}


def evaluate(items: list[tuple[str, float, list[float]]], month: date) -> list[dict]:
    """Each rated grid's score, stars, breakdown and ranks for the month (nothing written)."""
    values = indicator_values(month)
    grids = {
        g: (c, s)
        for g, c, s in Grid.objects.filter(id__in=values).values_list(
            "id", "community_id", "street_id"
        )
    }
    results = {}
    for grid_id, vals in values.items():
        total, breakdown = score(items, vals)
        if total is None:
            continue
        results[grid_id] = {"grid_id": grid_id, "score": total, "breakdown": breakdown}
    district = rank({g: r["score"] for g, r in results.items()})
    by_street: dict[int, dict] = defaultdict(dict)
    by_community: dict[int, dict] = defaultdict(dict)
    for g, r in results.items():
        community_id, street_id = grids[g]
        r.update(community_id=community_id, street_id=street_id, stars=stars_for(r["score"]))
        by_street[street_id][g] = r["score"]
        by_community[community_id][g] = r["score"]
    ranks_street = {g: k for d in by_street.values() for g, k in rank(d).items()}
    ranks_community = {g: k for d in by_community.values() for g, k in rank(d).items()}
    for g, r in results.items():
        r.update(
            rank_district=district[g],
            rank_street=ranks_street[g],
            rank_community=ranks_community[g],
        )
    return sorted(results.values(), key=lambda r: r["rank_district"])
