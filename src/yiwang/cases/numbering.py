"""Case numbers people read: district code, local date, a per-day sequence (SB20261130-000042)."""

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import DailySequence


def next_number(at=None) -> str:
    """Must run inside the transaction that creates the case; the row lock (or SQLite's write
    lock) makes concurrent reports take distinct numbers."""
    day = timezone.localdate(at or timezone.now())
    table = DailySequence._meta.db_table
    # One statement on both databases (SQLite ≥ 3.35 and PostgreSQL know upsert … RETURNING).
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, 1) "  # noqa: S608 (table name is ours)
            f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [day],
        )
        last = cursor.fetchone()[0]
    return f"{settings.YIWANG_DISTRICT_CODE}{day:%Y%m%d}-{last:06d}"
