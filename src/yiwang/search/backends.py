"""The two engines behind one interface: SQLite FTS5 and PostgreSQL tsvector + GIN, chosen by
the database in use. Both index the same token text (see text.py).

Two things keep large results cheap:

- A document's kind is the high part of its id (residents 1·2⁴⁰ + id, places 2·2⁴⁰ + id, …), so
  "residents only" is an id range the engine seeks to, not a token intersected with a
  million-entry list.
- `search_gram` holds, for every substring of 2 to GRAM_MAX characters, how many documents of a kind
  contain it, district-wide and per street. It changes in the same transaction as the index,
  so a one-term count at district or street scope (the counts that reach hundreds of
  thousands) is one primary-key read instead of a walk over every hit."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from django.db import connection, transaction

from .text import GRAM_MAX, Node, body_facts

KIND_CODE = {"r": 1, "p": 2, "o": 3}
CODE_KIND = {v: k for k, v in KIND_CODE.items()}
KIND_TOKENS = {"zzkr": "r", "zzkp": "p", "zzko": "o"}
SPAN = 1 << 40


def doc_id(kind: str, ref_id: int) -> int:
    return KIND_CODE[kind] * SPAN + ref_id


def split_doc_id(value: int) -> tuple[str, int]:
    return CODE_KIND[value // SPAN], value % SPAN


def kind_range(kind: str) -> tuple[int, int]:
    low = KIND_CODE[kind] * SPAN
    return low, low + SPAN - 1


@dataclass(frozen=True)
class Expr:
    """A compiled search: the engine's match text, the kind as an id range, and — when the
    query is one substring of 2 to GRAM_MAX characters at district or single-street scope — the key
    under which search_gram counts it."""

    text: str
    kind: str | None = None
    gram: str | None = None
    scope: str | None = None

    def __str__(self) -> str:
        return self.text


def _split_groups(groups: list[list[str]]) -> tuple[str | None, list[list[str]]]:
    kind, rest, seen = None, [], set()
    for group in groups:
        if kind is None and len(group) == 1 and group[0] in KIND_TOKENS:
            kind = KIND_TOKENS[group[0]]
            continue
        key = tuple(sorted(group))
        if key not in seen:
            seen.add(key)
            rest.append(group)
    return kind, rest


def _count_key(node: Node, kind: str | None, rest: list[list[str]]) -> tuple[str, str] | None:
    if kind is None or node.op != "term" or len(node.term.runs) != 1:
        return None
    gram = node.term.runs[0]
    if not 2 <= len(gram) <= GRAM_MAX:
        return None
    tokens = {g[0] for g in rest if len(g) == 1}
    if len(tokens) != len(rest):
        return None
    if not tokens:
        return gram, kind
    (token,) = tokens if len(tokens) == 1 else (None,)
    if token and token.startswith("zzs"):
        return gram, kind + token
    return None


class GramDelta:
    """Net change to search_gram from documents leaving (-1) and entering (+1) the index."""

    def __init__(self) -> None:
        self.by_scope: dict[str, Counter] = {}

    def add(self, did: int, body_text: str, sign: int) -> None:
        grams, street = body_facts(body_text)
        kind = split_doc_id(did)[0]
        for scope in (kind, kind + street) if street else (kind,):
            counter = self.by_scope.setdefault(scope, Counter())
            if sign > 0:
                counter.update(grams)
            else:
                counter.subtract(grams)

    def rows(self) -> Iterator[tuple[str, str, int]]:
        """Non-zero changes, scope by scope in key order (a district rebuild holds tens of
        millions: they are never all copied at once)."""
        for scope in sorted(self.by_scope):
            counter = self.by_scope[scope]
            for gram in sorted(counter):
                if n := counter[gram]:
                    yield gram, scope, n


class Backend:
    def _node(self, node: Node) -> str: ...
    def _match(self, node: Node, rest: list[list[str]]) -> str: ...

    def compile(self, node: Node, required: list[list[str]]) -> Expr:
        """`required` is a list of OR-groups of tokens that must all hold (kind, scope,
        filters); the kind group becomes an id range."""
        kind, rest = _split_groups(required)
        key = _count_key(node, kind, rest)
        text = self._match(node, rest)
        if key:
            return Expr(text, kind, key[0], key[1])
        return Expr(text, kind)

    def _params(self, expr: Expr | str) -> list:
        """Match text and id bounds (the kind's range, or every id)."""
        if isinstance(expr, Expr) and expr.kind:
            return [expr.text, *kind_range(expr.kind)]
        return [str(expr), -(1 << 62), 1 << 62]

    def count(self, expr: Expr | str) -> int:
        if isinstance(expr, Expr) and expr.gram:
            n = self.gram_count(expr.gram, expr.scope)
            if n is not None:
                return n
        return self.match_count(expr)

    def gram_count(self, gram: str, scope: str) -> int | None:
        """The stored count, or None when search_gram does not cover substrings this long
        (it was filled before GRAM_MAX grew, or is being rebuilt)."""
        with connection.cursor() as c:
            c.execute(
                "SELECT (SELECT n FROM search_gram WHERE gram = '' AND scope = 'max'), "
                "(SELECT n FROM search_gram WHERE gram = %s AND scope = %s)",
                [gram, scope],
            )
            covered, n = c.fetchone()
        if not covered or covered < len(gram):
            return None
        return n or 0

    def gram_mark(self, length: int) -> None:
        """Records that search_gram counts every substring up to `length` (0: none)."""
        with connection.cursor() as c:
            c.execute("DELETE FROM search_gram WHERE gram = '' AND scope = 'max'")
            c.execute("INSERT INTO search_gram(gram, scope, n) VALUES ('', 'max', %s)", [length])

    def regram(self, batch: int = 5_000, progress=None) -> int:
        """Recounts search_gram from the indexed documents themselves (after GRAM_MAX grew),
        in one transaction so that searches see the old counts or the new ones. The counts
        are summed in memory (about a million keys at district scale) and written once, so
        no row is rewritten per batch."""
        done = 0
        with transaction.atomic():
            self._take_turn()
            delta = GramDelta()
            last = -(1 << 62)
            while rows := self.bodies_after(last, batch):
                for did, text in rows:
                    delta.add(did, text, +1)
                last = rows[-1][0]
                done += len(rows)
                if progress:
                    progress(done)
            self.gram_clear()
            self.write_delta(delta)
            self.gram_mark(GRAM_MAX)
        return done

    def write_delta(self, delta: GramDelta, chunk: int = 100_000) -> None:
        rows = delta.rows()
        while batch := list(islice(rows, chunk)):
            self._write_grams(batch)

    def gram_clear(self) -> None:
        with connection.cursor() as c:
            c.execute("DELETE FROM search_gram")

    def match_count(self, expr: Expr | str) -> int: ...
    def ids(
        self, expr: Expr | str, limit: int, offset: int, total: int | None = None
    ) -> list[int]: ...
    def bodies(self, ids: list[int]) -> list[tuple[int, str]]: ...
    def bodies_after(self, last: int, limit: int) -> list[tuple[int, str]]: ...
    def _write(self, rows: list[tuple[int, str]]) -> None: ...
    def _remove(self, ids: list[int]) -> None: ...
    def _write_grams(self, rows: list[tuple[str, str, int]]) -> None: ...
    def clear(self) -> None: ...

    def analyze(self) -> None:
        """Fresh planner statistics after a bulk change (PostgreSQL plans by them)."""

    def queue_clear(self) -> None:
        with connection.cursor() as c:
            c.execute("DELETE FROM search_searchqueue")

    def queue_compact(self) -> bool:
        """After a bulk drain: gives back the space of an empty queue (PostgreSQL)."""
        return False

    LOCK = ""  # a statement that makes index writers take turns (see upsert)

    def upsert(
        self, rows: list[tuple[int, str]], fresh: bool = False, grams: GramDelta | None = None
    ) -> None:
        """Writes documents and their substring counts together; `fresh` = none of them is
        in the index yet (a rebuild), so no old text needs reading, and a rebuild passes
        `grams` to sum the counts itself and write them once at the end. Writers take turns
        before reading the old text, so two workers flushing the same document cannot both
        count its change."""
        if not rows:
            return
        with transaction.atomic():
            self._take_turn()
            delta = grams if grams is not None else GramDelta()
            if not fresh:
                for did, old in self.bodies([i for i, _ in rows]):
                    delta.add(did, old, -1)
            for did, new in rows:
                delta.add(did, new, +1)
            self._write(rows)
            if grams is None:
                self.write_delta(delta)

    def delete(self, ids: list[int]) -> None:
        if not ids:
            return
        with transaction.atomic():
            self._take_turn()
            delta = GramDelta()
            for did, old in self.bodies(list(ids)):
                delta.add(did, old, -1)
            self._remove(list(ids))
            self.write_delta(delta)

    def _take_turn(self) -> None:
        with connection.cursor() as c:
            c.execute(self.LOCK)


class SQLiteBackend(Backend):
    """FTS5."""

    # Any write takes SQLite's one write lock, and reads after it see the latest commit.
    LOCK = "UPDATE search_gram SET n = n WHERE gram = '' AND scope = 'max'"

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

    def _match(self, node: Node, rest: list[list[str]]) -> str:
        if node.op == "not":
            raise ValueError("a query needs at least one positive term")
        text = f"({self._node(node)})"
        for group in rest:
            text += " AND (" + " OR ".join(group) + ")"
        return text

    def match_count(self, expr: Expr | str) -> int:
        with connection.cursor() as c:
            c.execute(
                "SELECT count(*) FROM search_fts WHERE search_fts MATCH %s "
                "AND rowid BETWEEN %s AND %s",
                self._params(expr),
            )
            return c.fetchone()[0]

    def ids(self, expr: Expr | str, limit: int, offset: int, total: int | None = None) -> list[int]:
        with connection.cursor() as c:
            c.execute(
                "SELECT rowid FROM search_fts WHERE search_fts MATCH %s "
                "AND rowid BETWEEN %s AND %s ORDER BY rowid LIMIT %s OFFSET %s",
                [*self._params(expr), limit, offset],
            )
            return [r[0] for r in c.fetchall()]

    def bodies(self, ids: list[int]) -> list[tuple[int, str]]:
        out: list[tuple[int, str]] = []
        with connection.cursor() as c:
            for i in ids:
                c.execute("SELECT rowid, body FROM search_fts WHERE rowid = %s", [i])
                out.extend(c.fetchall())
        return out

    def bodies_after(self, last: int, limit: int) -> list[tuple[int, str]]:
        with connection.cursor() as c:
            c.execute(
                "SELECT rowid, body FROM search_fts WHERE rowid > %s ORDER BY rowid LIMIT %s",
                [last, limit],
            )
            return c.fetchall()

    def _write(self, rows: list[tuple[int, str]]) -> None:
        with connection.cursor() as c:
            c.executemany("DELETE FROM search_fts WHERE rowid = %s", [(i,) for i, _ in rows])
            c.executemany("INSERT INTO search_fts(rowid, body) VALUES (%s, %s)", rows)

    def _remove(self, ids: list[int]) -> None:
        with connection.cursor() as c:
            c.executemany("DELETE FROM search_fts WHERE rowid = %s", [(i,) for i in ids])

    def _write_grams(self, rows: list[tuple[str, str, int]]) -> None:
        if not rows:
            return
        with connection.cursor() as c:
            c.executemany(
                "INSERT INTO search_gram(gram, scope, n) VALUES (%s, %s, %s) "
                "ON CONFLICT(gram, scope) DO UPDATE SET n = n + excluded.n",
                rows,
            )
            gone = [(g, s) for g, s, n in rows if n < 0]
            if gone:
                c.executemany(
                    "DELETE FROM search_gram WHERE gram = %s AND scope = %s AND n <= 0", gone
                )

    def clear(self) -> None:
        with connection.cursor() as c:
            c.execute("DELETE FROM search_fts")
            c.execute("DELETE FROM search_gram")


_TSV_ITEM = re.compile(r"'([^']*)':([0-9A-D,]+)")


def tsvector_body(tsv: str) -> str:
    """A tsvector's text ('tok':1,5 'x':2) back to its words in position order."""
    placed = []
    for word, positions in _TSV_ITEM.findall(tsv):
        for p in positions.split(","):
            placed.append((int(p.rstrip("ABCD")), word))
    placed.sort()
    return " ".join(w for _, w in placed)


class PostgresBackend(Backend):
    """tsvector + GIN. Each statement runs with enough work_mem for an exact (not lossy)
    bitmap of a district-wide result and without JIT, whose compile time would exceed the
    query's own for counts the planner over-estimates."""

    LOCK = "SELECT pg_advisory_xact_lock(hashtext('yiwang.search.index'))"
    SETTINGS = "SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true)"

    def _node(self, node: Node) -> str:
        if node.op == "term":
            return " & ".join("(" + " <-> ".join(p) + ")" for p in node.term.phrases())
        if node.op == "not":
            return f"!({self._node(node.children[0])})"
        joiner = " | " if node.op == "or" else " & "
        return joiner.join(f"({self._node(c)})" for c in node.children)

    def _match(self, node: Node, rest: list[list[str]]) -> str:
        text = f"({self._node(node)})"
        for group in rest:
            text += " & (" + " | ".join(group) + ")"
        return text

    # With this many hits or more, the first page is found by walking the primary key in order
    # and testing each row (a few rows per hit); with fewer, by the GIN index and a sort.
    WALK_FROM = 20_000
    # The planner, unable to tell how common a bigram phrase is, would otherwise scan and sort
    # the whole table; the key walk stops after the page, so one process is plenty.
    WALK = (
        "SELECT set_config('enable_bitmapscan', 'off', true), "
        "set_config('enable_seqscan', 'off', true), "
        "set_config('max_parallel_workers_per_gather', '0', true)"
    )

    def _query(self, sql: str, params: list, *extra: str) -> list[tuple]:
        with transaction.atomic(), connection.cursor() as c:
            c.execute(self.SETTINGS)
            for statement in extra:
                c.execute(statement)
            c.execute(sql, params)
            return c.fetchall()

    def match_count(self, expr: Expr | str) -> int:
        return self._query(
            "SELECT count(*) FROM search_doc "
            "WHERE tsv @@ to_tsquery('simple', %s) AND id BETWEEN %s AND %s",
            self._params(expr),
        )[0][0]

    def ids(self, expr: Expr | str, limit: int, offset: int, total: int | None = None) -> list[int]:
        """The planner cannot tell how many rows a bigram query matches; the caller usually
        can (the count came first), and picks the plan: walk the key for many hits, or the
        GIN index and a sort of the few (ordering by id + 0 keeps the key walk out)."""
        params = [*self._params(expr), limit, offset]
        if total is not None and total >= self.WALK_FROM:
            sql = (
                "SELECT id FROM search_doc WHERE tsv @@ to_tsquery('simple', %s) "
                "AND id BETWEEN %s AND %s ORDER BY id LIMIT %s OFFSET %s"
            )
            return [r[0] for r in self._query(sql, params, self.WALK)]
        if total is not None:
            sql = (
                "SELECT id FROM search_doc WHERE tsv @@ to_tsquery('simple', %s) "
                "AND id BETWEEN %s AND %s ORDER BY id + 0 LIMIT %s OFFSET %s"
            )
        else:
            sql = (
                "SELECT id FROM search_doc WHERE tsv @@ to_tsquery('simple', %s) "
                "AND id BETWEEN %s AND %s ORDER BY id LIMIT %s OFFSET %s"
            )
        return [r[0] for r in self._query(sql, params)]

    def bodies(self, ids: list[int]) -> list[tuple[int, str]]:
        with connection.cursor() as c:
            c.execute("SELECT id, tsv::text FROM search_doc WHERE id = ANY(%s)", [list(ids)])
            return [(i, tsvector_body(t)) for i, t in c.fetchall()]

    def _write(self, rows: list[tuple[int, str]]) -> None:
        with connection.cursor() as c:
            c.execute(
                "INSERT INTO search_doc(id, tsv) "
                "SELECT i, to_tsvector('simple', b) FROM unnest(%s::bigint[], %s::text[]) AS t(i, b) "
                "ON CONFLICT (id) DO UPDATE SET tsv = EXCLUDED.tsv",
                [[i for i, _ in rows], [b for _, b in rows]],
            )

    def bodies_after(self, last: int, limit: int) -> list[tuple[int, str]]:
        with connection.cursor() as c:
            c.execute(
                "SELECT id, tsv::text FROM search_doc WHERE id > %s ORDER BY id LIMIT %s",
                [last, limit],
            )
            return [(i, tsvector_body(t)) for i, t in c.fetchall()]

    def _remove(self, ids: list[int]) -> None:
        with connection.cursor() as c:
            c.execute("DELETE FROM search_doc WHERE id = ANY(%s)", [list(ids)])

    def _write_grams(self, rows: list[tuple[str, str, int]]) -> None:
        if not rows:
            return
        with connection.cursor() as c:
            for start in range(0, len(rows), 50_000):
                chunk = rows[start : start + 50_000]
                c.execute(
                    "INSERT INTO search_gram(gram, scope, n) "
                    "SELECT * FROM unnest(%s::text[], %s::text[], %s::int[]) "
                    "ON CONFLICT (gram, scope) DO UPDATE SET n = search_gram.n + EXCLUDED.n",
                    [[g for g, _, _ in chunk], [s for _, s, _ in chunk], [n for _, _, n in chunk]],
                )
            gone = [(g, s) for g, s, n in rows if n < 0]
            if gone:
                c.execute(
                    "DELETE FROM search_gram WHERE n <= 0 AND (gram, scope) IN "
                    "(SELECT * FROM unnest(%s::text[], %s::text[]))",
                    [[g for g, _ in gone], [s for _, s in gone]],
                )

    def clear(self) -> None:
        with connection.cursor() as c:
            c.execute("TRUNCATE search_doc, search_gram")

    def analyze(self) -> None:
        with connection.cursor() as c:
            c.execute("ANALYZE search_doc, search_gram, search_searchqueue")

    def queue_clear(self) -> None:
        # TRUNCATE leaves no dead rows behind for the next "anything queued?" to read.
        with connection.cursor() as c:
            c.execute("TRUNCATE search_searchqueue")

    def queue_compact(self) -> bool:
        """A drained queue keeps its dead rows until vacuumed, and every search's "anything
        queued?" would step over them; when the queue is empty (checked under a lock that
        holds off the triggers' inserts for that moment), truncate it."""
        with transaction.atomic(), connection.cursor() as c:
            c.execute("LOCK TABLE search_searchqueue IN ACCESS EXCLUSIVE MODE")
            c.execute("SELECT EXISTS (SELECT 1 FROM search_searchqueue)")
            if c.fetchone()[0]:
                return False
            c.execute("TRUNCATE search_searchqueue")
            return True


def backend() -> Backend:
    return PostgresBackend() if connection.vendor == "postgresql" else SQLiteBackend()
