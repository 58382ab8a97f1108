"""Plain-tuple inserts for the importer: the ORM's bulk_create spends most of an import's time
building model instances and preparing each value. Rows here are tuples already in database
form; the new ids come back in insertion order."""

from __future__ import annotations

import json

from django.db import connection


def db_value(value):
    """Python value → what the driver takes: JSON as text, dates as ISO text on SQLite."""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    if connection.vendor == "sqlite" and hasattr(value, "isoformat") and not isinstance(value, str):
        return value.isoformat()
    return value


def insert_rows(model, fields: list[str], rows: list[tuple]) -> list[int]:
    """Inserts rows (values in `fields` order) inside the caller's transaction; returns ids."""
    if not rows:
        return []
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    columns = [model._meta.get_field(f).column for f in fields]
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # Ids drawn from the sequence first: safe with concurrent importers.
            cur.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [model._meta.db_table, len(rows)],
            )
            ids = [r[0] for r in cur.fetchall()]
            cols = ", ".join(qn(c) for c in ["id", *columns])
            marks = ", ".join(["%s"] * (len(columns) + 1))
            cur.executemany(
                f"INSERT INTO {table} ({cols}) VALUES ({marks})",  # noqa: S608 (names from _meta)
                [(i, *row) for i, row in zip(ids, rows, strict=True)],
            )
            return ids
        # SQLite: the transaction holds the database's only write lock from its first write,
        # so one executemany appends consecutive rowids after the current largest.
        cols = ", ".join(qn(c) for c in columns)
        marks = ", ".join(["%s"] * len(columns))
        if not connection.in_atomic_block:
            raise RuntimeError("insert_rows needs a transaction")
        cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)  # noqa: S608
        cur.execute(f"SELECT MAX(id) FROM {table}")  # noqa: S608
        last = cur.fetchone()[0]
        return list(range(last - len(rows) + 1, last + 1))
