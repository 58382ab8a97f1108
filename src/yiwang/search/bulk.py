"""Bulk inserts that queue their rows for the index once per batch, not once per row.

The search queue is filled by database triggers (migration 0001), so no write can miss it.
On SQLite a row trigger is a sub-program run for every inserted row, and that call costs more
than the queue row it writes: ~20 µs of the ~70 µs an imported resident costs. Inside the
caller's transaction, `insert_triggers_off` drops the named tables' insert triggers, lets the
caller insert, and puts them back with the exact text they had; the caller queues what the
triggers would have (`queue`). SQLite's schema changes are transactional and the writing
transaction holds the database's only write lock, so no other connection can insert while a
trigger is away, and a rollback restores it with the rows.

PostgreSQL's triggers already run once per statement (migration 0003), each keeping a copy of
every row the statement wrote for it to read; a bulk load (`postgres=True`) turns them off too,
for ~6 µs a resident: `ALTER TABLE … DISABLE TRIGGER` inside the caller's transaction, which
then holds off other writers of those tables (not readers) until it ends, and is undone by a
rollback like any other change."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def insert_triggers_off(tables: Iterable[str], *, postgres: bool = False) -> Iterator[bool]:
    """Yields True when the insert triggers of `tables` are off until the block ends (the
    caller must then `queue` every record it inserts), False when they stay on. On PostgreSQL
    only with `postgres` (see the module doc); enter it before writing anything else, so that
    its lock comes first."""
    if connection.vendor == "postgresql" and postgres:
        if not connection.in_atomic_block:
            raise RuntimeError("insert_triggers_off needs a transaction")
        qn = connection.ops.quote_name
        alter = [(qn(t), qn(f"search_queue_{t}_insert")) for t in tables]
        with transaction.atomic(), connection.cursor() as cur:
            for table, trigger in alter:
                cur.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
            yield True
            for table, trigger in alter:
                cur.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
        return
    if connection.vendor != "sqlite":
        yield False
        return
    if not connection.in_atomic_block:
        raise RuntimeError("insert_triggers_off needs a transaction")
    names = [f"search_{table}_insert" for table in tables]
    # A savepoint: an error inside the block undoes the drop together with the rows.
    with transaction.atomic(), connection.cursor() as cur:
        marks = ", ".join(["%s"] * len(names))
        sql = f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})"  # noqa: S608
        cur.execute(sql, names)
        saved = cur.fetchall()
        for name, _sql in saved:
            cur.execute(f'DROP TRIGGER "{name}"')
        yield True
        for _name, sql in saved:
            cur.execute(sql)


def queue(kind: str, ids: list[int]) -> None:
    """Queues records of one kind (r, p, o) for the index, as the triggers do."""
    if not ids:
        return
    with connection.cursor() as cur:
        lo, hi = min(ids), max(ids)
        if connection.vendor == "sqlite" and hi - lo + 1 == len(ids) == len(set(ids)):
            # A run of consecutive ids (a bulk insert's): generated inside SQLite, where
            # binding each id from Python took ten times as long.
            cur.execute(
                "WITH RECURSIVE run(i) AS (SELECT %s UNION ALL SELECT i + 1 FROM run WHERE i < %s) "
                "INSERT INTO search_searchqueue (kind, ref_id) SELECT %s, i FROM run",
                [lo, hi, kind],
            )
            return
        if connection.vendor == "postgresql":
            text = "{" + ",".join(map(str, ids)) + "}"
            cur.execute(
                "INSERT INTO search_searchqueue (kind, ref_id) SELECT %s, unnest(%s::bigint[])",
                [kind, text],
            )
            return
        cur.executemany(
            "INSERT INTO search_searchqueue (kind, ref_id) VALUES (%s, %s)",
            [(kind, i) for i in ids],
        )
