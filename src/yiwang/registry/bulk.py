"""Plain-tuple inserts and updates for the importer: the ORM's bulk_create and bulk_update spend
most of an import's time building model instances and preparing each value. Rows here are
tuples already in database form (see `row_converter`); new ids come back in insertion order.

Database triggers (the search queue) fire for these writes as for any other: COPY and
executemany are ordinary row inserts to PostgreSQL and SQLite."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress

from django.db import DatabaseError, connection

_json = json.JSONEncoder(ensure_ascii=False).encode


def _iso(value):
    return value.isoformat() if isinstance(value, dt.date) else value


def _json_value(value):
    return value if value is None or isinstance(value, str) else _json(value)


def db_value(value):
    """Python value → what the driver takes: JSON as text, dates as ISO text on SQLite."""
    if isinstance(value, list | dict):
        return _json(value)
    if connection.vendor == "sqlite" and isinstance(value, dt.date):
        return value.isoformat()
    return value


def row_converter(model, fields: list[str]) -> Callable[[tuple], tuple]:
    """A function taking one row of Python values (in `fields` order) to database form. The
    field types are looked at once, not per value: JSON fields are encoded (a value that is
    already a str is taken as encoded JSON), dates become ISO text on SQLite."""
    sqlite = connection.vendor == "sqlite"
    steps = []
    for i, name in enumerate(fields):
        kind = model._meta.get_field(name).get_internal_type()
        if kind == "JSONField":
            steps.append((i, _json_value))
        elif sqlite and kind in ("DateField", "DateTimeField"):
            steps.append((i, _iso))
    if not steps:
        return tuple

    def convert(row):
        out = list(row)
        for i, step in steps:
            out[i] = step(out[i])
        return out

    return convert


_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_str(value: str) -> str:
    return value.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(value) else value


_COPY_VALUE = {
    str: _copy_str,
    int: str,
    float: repr,
    bool: lambda v: "t" if v else "f",
    type(None): lambda v: "\\N",
    dt.date: dt.date.isoformat,
    dt.datetime: dt.datetime.isoformat,
}


def _copy_any(value) -> str:
    """Anything else (choices enums, decimals): its text, as the driver would write it."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return _copy_str(str(value))


def copy_row(values) -> str:
    """One row's values (database form) as COPY text, without the id."""
    conv = _COPY_VALUE.get
    # Most text needs no escaping: join it as it is, and look for what would need it once
    # in the whole line (each None is the one backslash of its \N).
    line = "\t".join([v if type(v) is str else conv(type(v), _copy_any)(v) for v in values])
    if (
        line.count("\t") == len(values) - 1
        and line.count("\\") == values.count(None)
        and "\n" not in line
        and "\r" not in line
    ):
        return line
    return "\t".join([conv(type(v), _copy_any)(v) for v in values])


def copy_text(ids: list[int], rows: list) -> str:
    """Rows in COPY's text format. The driver's row writer adapts each value through its
    type machinery, which took longer than the server's insert; these values are already in
    database form, so each needs only its text. A row given as a str is COPY text already
    (`copy_row`)."""
    lines = [
        f"{i}\t{row}" if type(row) is str else f"{i}\t{copy_row(row)}"
        for i, row in zip(ids, rows, strict=True)
    ]
    lines.append("")
    return "\n".join(lines)


_SEQUENCES: dict[tuple, str] = {}


def _sequence(cur, table: str) -> str:
    """The name of the sequence that gives the table's ids (PostgreSQL), asked once per
    database."""
    key = (connection.settings_dict["NAME"], table)
    if key not in _SEQUENCES:
        cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        _SEQUENCES[key] = cur.fetchone()[0]
    return _SEQUENCES[key]


def insert_rows(model, fields: list[str], rows: list) -> list[int]:
    """Inserts rows (values in `fields` order, database form; on PostgreSQL a row may be its
    COPY text, `copy_row`) inside the caller's transaction; returns the new ids in the order
    of the rows."""
    if not rows:
        return []
    if not connection.in_atomic_block:
        raise RuntimeError("insert_rows needs a transaction")
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    columns = [model._meta.get_field(f).column for f in fields]
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # Ids drawn from the sequence first (safe with concurrent importers), then one COPY.
            # The sequence by name, a constant: asking for it in the query (pg_get_serial_sequence)
            # looked it up for every id, thirteen times the cost of drawing them.
            cur.execute(
                "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                [_sequence(cur, model._meta.db_table), len(rows)],
            )
            ids = [r[0] for r in cur.fetchall()]
            cols = ", ".join(qn(c) for c in ["id", *columns])
            # The driver's own cursor, whose errors Django would not otherwise translate: a
            # duplicate must reach the caller as IntegrityError, as it does on SQLite.
            with (
                connection.wrap_database_errors,
                cur.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy,
            ):
                copy.write(copy_text(ids, rows))
            return ids
        # SQLite: the transaction holds the database's only write lock from its first write,
        # so one executemany appends consecutive rowids after the current largest.
        cols = ", ".join(qn(c) for c in columns)
        marks = ", ".join(["%s"] * len(columns))
        cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)  # noqa: S608
        cur.execute(f"SELECT MAX(id) FROM {table}")  # noqa: S608
        last = cur.fetchone()[0]
        return list(range(last - len(rows) + 1, last + 1))


def update_rows(model, fields: list[str], rows: list) -> None:
    """Sets `fields` on existing rows: each row is (id, *values in `fields` order, database
    form). One statement executed for many rows, inside the caller's transaction."""
    if not rows:
        return
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    sets = ", ".join(f"{qn(model._meta.get_field(f).column)} = %s" for f in fields)
    with connection.cursor() as cur:
        cur.executemany(
            f"UPDATE {table} SET {sets} WHERE id = %s",  # noqa: S608 (names from _meta)
            [(*row[1:], row[0]) for row in rows],
        )


def _upkeep_statements(model) -> dict[str, str]:
    """What keeps the model's table up to date row by row, name → the statement that makes it,
    as the migrations wrote it: its own indexes (indexed fields and Meta.indexes; not its
    unique constraints) and, on PostgreSQL, its foreign keys (checked per row; SQLite's are
    part of the table)."""
    # Only its statement-making is used: entering the editor would change the connection.
    editor = connection.schema_editor()
    statements = editor._model_indexes_sql(model)
    if connection.vendor == "postgresql":
        for f in model._meta.local_fields:
            if f.remote_field is not None and f.db_constraint:
                statements.append(editor._create_fk_sql(model, f, "_fk_%(to_table)s_%(to_column)s"))
    return {str(s.parts["name"]).strip('"'): str(s) for s in statements}


def _upkeep_names(model) -> set[str]:
    table = model._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = %s UNION ALL "
                "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
                [table, table],
            )
        else:
            cur.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = %s", [table]
            )
        return {row[0] for row in cur.fetchall()}


def _settle(cur) -> None:
    """Inside a caller's transaction on PostgreSQL, the deferred foreign-key checks of its
    rows are still pending, and no index or key can be made or dropped over them: run them."""
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute("SET CONSTRAINTS ALL DEFERRED")


def upkeep_ensure(model) -> list[str]:
    """Makes any of the model's indexes and foreign keys that is missing (after
    `upkeep_deferred` was cut off by a killed process); returns their names."""
    present = _upkeep_names(model)
    missing = {n: sql for n, sql in _upkeep_statements(model).items() if n not in present}
    if not missing:
        return []
    pg = connection.vendor == "postgresql"
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cur:
        _settle(cur)
        if pg:
            # Sorting a million keys in memory instead of in temporary files.
            cur.execute("SET maintenance_work_mem = '256MB'")
        broken = []
        for name, sql in missing.items():
            if sql.startswith("ALTER TABLE"):
                # Added unchecked, then checked by one join: should a row break it, the key
                # still holds for new rows, the others are still made, and the error says.
                cur.execute(f"{sql} NOT VALID")
                try:
                    quoted = connection.ops.quote_name(name)
                    cur.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {quoted}")
                except DatabaseError as exc:
                    broken.append(exc)
            else:
                cur.execute(sql)
        if pg and not connection.needs_rollback:
            with suppress(DatabaseError):
                cur.execute("RESET maintenance_work_mem")
        if broken:
            raise broken[0]
    return sorted(missing)


def _sqlite_foreign_keys_off() -> bool:
    """SQLite checks each inserted row's foreign keys; a connection can stop that between
    transactions only. True if it stopped (the caller checks the tables afterwards)."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return False
    with connection.cursor() as cur:
        cur.execute("PRAGMA foreign_keys")
        if not cur.fetchone()[0]:
            return False  # off already: whoever turned it off turns it on
    return connection.disable_constraint_checking()


@contextmanager
def upkeep_deferred(*models, keep: Iterable[str] = ()) -> Iterator[Callable[[object], None]]:
    """Loading many rows into tables holding few: drops the models' secondary indexes and
    foreign keys, except the names in `keep`, and makes them again once the block ends. An
    index built over every key at once costs a fraction of updating it row by row, and a
    foreign key is then checked by one join instead of one lookup per row (on SQLite, whose
    keys are part of the table, this connection stops checking them and checks the tables
    at the end). Unique constraints always stay, so no duplicate can get in. Yields a
    function that makes one model's earlier (for a caller that comes to need an index).

    In between, other readers of the tables get the same rows more slowly. Each statement
    commits on its own unless the caller holds a transaction; a process killed inside the
    block leaves them missing, and `upkeep_ensure` (run before each import) makes them."""
    keep = set(keep)
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        _settle(cur)
        for model in models:
            present = _upkeep_names(model)
            table = qn(model._meta.db_table)
            for name, sql in _upkeep_statements(model).items():
                if name not in present or name in keep:
                    continue
                if sql.startswith("ALTER TABLE"):
                    cur.execute(f"ALTER TABLE {table} DROP CONSTRAINT {qn(name)}")
                else:
                    cur.execute(f"DROP INDEX {qn(name)}")
    unchecked = _sqlite_foreign_keys_off()

    def finish() -> None:
        # Every table gets its indexes and keys back even when one key finds a broken row.
        errors = []
        for model in models:
            try:
                upkeep_ensure(model)
            except DatabaseError as exc:
                errors.append(exc)
        if errors:
            if unchecked:
                connection.enable_constraint_checking()
            raise errors[0]
        if unchecked:
            connection.enable_constraint_checking()
            connection.check_constraints(table_names=[m._meta.db_table for m in models])

    try:
        yield upkeep_ensure
    except BaseException:
        # A transaction that is to be rolled back takes the drops back with it; otherwise
        # they are made now, or by the next import if even that fails.
        if not connection.needs_rollback:
            with suppress(DatabaseError):
                finish()
        elif unchecked:
            connection.enable_constraint_checking()
        raise
    finish()
