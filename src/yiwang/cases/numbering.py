"""Case numbers people read: district code, local date, a per-day sequence (SB20261130-000042)."""

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from .models import DailySequence


def next_number(at=None) -> str:
    """Must run inside the transaction that creates the case; the row lock (or SQLite's write
    lock) makes concurrent reports take distinct numbers."""
    day = timezone.localdate(at or timezone.now())
    DailySequence.objects.get_or_create(day=day)
    DailySequence.objects.filter(day=day).update(last=F("last") + 1)
    last = DailySequence.objects.values_list("last", flat=True).get(day=day)
    return f"{settings.YIWANG_DISTRICT_CODE}{day:%Y%m%d}-{last:06d}"
