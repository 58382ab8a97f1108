"""The two engines behind one interface: SQLite FTS5 and PostgreSQL tsvector + GIN, chosen by
the database in use. Both index the same token text (see text.py)."""

from __future__ import annotations

from django.db import connection

from .text import Node

KIND_CODE = {"r": 1, "p": 2, "o": 3}
CODE_KIND = {v: k for k, v in KIND_CODE.items()}


def doc_id(kind: str, ref_id: int) -> int:
    return ref_id * 4 + KIND_CODE[kind]


def split_doc_id(value: int) -> tuple[str, int]:
    return CODE_KIND[value % 4], value // 4


class Backend:
    def compile(self, node: Node, required: list[list[str]]) -> str: ...
    def count(self, expr: str) -> int: ...
    def ids(self, expr: str, limit: int, offset: int) -> list[int]: ...
    def upsert(self, rows: list[tuple[int, str]]) -> None: ...
    def delete(self, ids: list[int]) -> None: ...
    def clear(self) -> None: ...


class SQLiteBackend(Backend):
    """FTS5; `required` is a list of OR-groups of tokens that must all hold (scope, filters)."""

    def _node(self, node: Node) -> str:
        if node.op == "term":
            return " AND ".join('"' + " ".join(p) + '"' for p in node.term.phrases())
        if node.op == "or":
            return " OR ".join(f"({self._node(c)})" for c in node.children)
        # "and": FTS5's NOT is binary, so positives first, then each excluded term.
        pos = [c for c in node.children if c.op != "not"]
        neg = [c.children[0] for c in node.children if c.op == "not"]
        text = " AND ".join(f"({self._node(c)})" for c in pos)
        for c in neg:
            text = f"({text}) NOT ({self._node(c)})"
        return text

    def compile(self, node: Node, required: list[list[str]]) -> str:
        if node.op == "not":
            raise ValueError("a query needs at least one positive term")
        text = f"({self._node(node)})"
        for group in required:
            text += " AND (" + " OR ".join(group) + ")"
        return text

    def count(self, expr: str) -> int:
        with connection.cursor() as c:
            c.execute("SELECT count(*) FROM search_fts WHERE search_fts MATCH %s", [expr])
            return c.fetchone()[0]

    def ids(self, expr: str, limit: int, offset: int) -> list[int]:
        with connection.cursor() as c:
            c.execute(
                "SELECT rowid FROM search_fts WHERE search_fts MATCH %s ORDER BY rowid "
                "LIMIT %s OFFSET %s",
                [expr, limit, offset],
            )
            return [r[0] for r in c.fetchall()]

    def upsert(self, rows: list[tuple[int, str]]) -> None:
        if not rows:
            return
        with connection.cursor() as c:
            c.executemany("DELETE FROM search_fts WHERE rowid = %s", [(i,) for i, _ in rows])
            c.executemany("INSERT INTO search_fts(rowid, body) VALUES (%s, %s)", rows)

    def delete(self, ids: list[int]) -> None:
        with connection.cursor() as c:
            c.executemany("DELETE FROM search_fts WHERE rowid = %s", [(i,) for i in ids])

    def clear(self) -> None:
        with connection.cursor() as c:
            c.execute("DELETE FROM search_fts")


class PostgresBackend(Backend):
    def _node(self, node: Node) -> str:
        if node.op == "term":
            return " & ".join("(" + " <-> ".join(p) + ")" for p in node.term.phrases())
        if node.op == "not":
            return f"!({self._node(node.children[0])})"
        joiner = " | " if node.op == "or" else " & "
        return joiner.join(f"({self._node(c)})" for c in node.children)

    def compile(self, node: Node, required: list[list[str]]) -> str:
        text = f"({self._node(node)})"
        for group in required:
            text += " & (" + " | ".join(group) + ")"
        return text

    def count(self, expr: str) -> int:
        with connection.cursor() as c:
            c.execute(
                "SELECT count(*) FROM search_doc WHERE tsv @@ to_tsquery('simple', %s)", [expr]
            )
            return c.fetchone()[0]

    def ids(self, expr: str, limit: int, offset: int) -> list[int]:
        with connection.cursor() as c:
            c.execute(
                "SELECT id FROM search_doc WHERE tsv @@ to_tsquery('simple', %s) ORDER BY id "
                "LIMIT %s OFFSET %s",
                [expr, limit, offset],
            )
            return [r[0] for r in c.fetchall()]

    def upsert(self, rows: list[tuple[int, str]]) -> None:
        if not rows:
            return
        with connection.cursor() as c:
            c.executemany(
                "INSERT INTO search_doc(id, tsv) VALUES (%s, to_tsvector('simple', %s)) "
                "ON CONFLICT (id) DO UPDATE SET tsv = EXCLUDED.tsv",
                rows,
            )

    def delete(self, ids: list[int]) -> None:
        with connection.cursor() as c:
            c.execute("DELETE FROM search_doc WHERE id = ANY(%s)", [list(ids)])

    def clear(self) -> None:
        with connection.cursor() as c:
            c.execute("TRUNCATE search_doc")


def backend() -> Backend:
    return PostgresBackend() if connection.vendor == "postgresql" else SQLiteBackend()
