"""The demo's brains: roll-ups counted from the demo's cases, the default star rubric, and star
ratings for the last few months (all published but the current month's)."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from yiwang.brain.models import StarRating
from yiwang.brain.rollup import rollup_rebuild
from yiwang.brain.services import rubric_default, stars_evaluate, stars_publish


def build_brain(*, months: int = 4, progress=None) -> list[date]:
    """Counts the roll-ups, then rates the last `months` months. Returns the months rated."""
    rollup_rebuild(progress=progress)
    rubric_default(actor=None)
    current = timezone.localdate().replace(day=1)
    rated = []
    month = current
    for _ in range(months):
        # A month published by an earlier run is final: building the demo again keeps it.
        if StarRating.objects.filter(month=month, published_at__isnull=False).exists():
            rated.append(month)
            month = (month - timedelta(days=1)).replace(day=1)
            continue
        stars_evaluate(actor=None, month=month)
        if month != current:
            stars_publish(actor=None, month=month)
        rated.append(month)
        month = (month - timedelta(days=1)).replace(day=1)
    return rated
