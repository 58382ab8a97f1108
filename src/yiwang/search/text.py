"""Text → index tokens, and queries → the same tokens, so that a term matches exactly where it
occurs as a substring.

Every run of letters and digits (CJK, Latin, digits alike) is cut into overlapping bigrams; a
term of n ≥ 2 characters becomes the phrase of its n−1 bigrams, which occurs in a document
exactly when the term is a substring of one of its runs. Runs are separated by a breaker token so
that a phrase never spans punctuation. Bigrams are written as ASCII words (each character as 4
base-36 digits) so both SQLite FTS5 and PostgreSQL's text-search parser keep them whole.

Scope and facets are tokens too (zzs<street>, zzc<community>, zzg<grid>, zzt<tag>, zzy<birth
year>, zzk<kind>): the search engine intersects them with the terms, so a scoped count never
reads a table."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

BREAK = "zzq"
_RUN = re.compile(r"[^\W_]+", re.UNICODE)
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def runs(text: str) -> list[str]:
    """Maximal runs of letters and digits, after NFKC and lower-casing."""
    return _RUN.findall(normalize(text))


@lru_cache(maxsize=65_536)
def _char(c: str) -> str:
    n = ord(c)
    out = ""
    for _ in range(4):
        n, r = divmod(n, 36)
        out = _B36[r] + out
    return out


@lru_cache(maxsize=1_000_000)
def bigram_token(pair: str) -> str:
    return "x" + _char(pair[0]) + _char(pair[1])


def run_tokens(run: str) -> list[str]:
    return [bigram_token(run[i : i + 2]) for i in range(len(run) - 1)]


# Substrings up to this length are counted (search_gram), so a one-term count at district or
# street scope is one key read. Eight covers what people type as one word: 紫云台小区,
# 1号楼1单元, a full pinyin name (zhangwei); longer terms are counted by the engine.
GRAM_MAX = 8


def _run_grams(run: str, out: set[str]) -> None:
    n = len(run)
    for size in range(2, GRAM_MAX + 1):
        for i in range(n - size + 1):
            out.add(run[i : i + size])


def body_facts(body_text: str) -> tuple[set[str], str]:
    """What a document's indexed text says about it: the distinct substrings of 2 to GRAM_MAX
    characters of its runs (read back from the bigram tokens: a run of n characters is n−1
    adjacent tokens) and its street token ("zzs12", or "" without a grid)."""
    grams: set[str] = set()
    street = ""
    run = ""
    for token in body_text.split():
        if len(token) == 9 and token[0] == "x":
            if run:
                run += chr(int(token[5:], 36))
            else:
                run = chr(int(token[1:5], 36)) + chr(int(token[5:], 36))
            continue
        if run:
            _run_grams(run, grams)
            run = ""
        if token.startswith("zzs"):
            street = token
    if run:
        _run_grams(run, grams)
    return grams, street


def body(texts: list[str], extra_tokens: list[str]) -> str:
    """The indexed text of one document."""
    tokens: list[str] = []
    for text in texts:
        for run in runs(text):
            if len(run) >= 2:
                tokens.extend(run_tokens(run))
                tokens.append(BREAK)
    tokens.extend(extra_tokens)
    return " ".join(tokens)


@lru_cache(maxsize=100_000)
def _pinyin(name: str) -> tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin

    full = "".join(lazy_pinyin(name, errors="ignore"))
    initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore"))
    return tuple(f for f in (full, initials) if f)


def pinyin_forms(name: str) -> list[str]:
    """张三 → "zhangsan" and "zs", so names can be found by pinyin, full or initials (cached:
    names repeat, and the conversion is the slowest part of indexing)."""
    if not name:
        return []
    return list(_pinyin(name))


# -- queries ---------------------------------------------------------------------------------


class QueryError(ValueError):
    pass


@dataclass
class Term:
    runs: list[str]  # the term's runs (a typed "a-b" is the runs "a" and "b", both required)

    def phrases(self) -> list[list[str]]:
        return [run_tokens(r) for r in self.runs]


@dataclass
class Node:
    op: str  # "and" | "or" | "not" | "term"
    children: list = field(default_factory=list)
    term: Term | None = None


_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
OR_WORDS = {"or", "|", "或"}
AND_WORDS = {"and", "&", "且"}
NOT_WORDS = {"not", "非"}
MAX_QUERY = 200


def _term(text: str) -> Term | None:
    parts = [r for r in runs(text) if len(r) >= 2]
    return Term(parts) if parts else None


def parse(query: str) -> Node:
    """Words separated by spaces must all occur (AND); OR between words, NOT or a leading minus
    excludes; double quotes keep spaces inside one term. Anything else typed — FTS operators,
    SQL wildcards, brackets — is text: it only separates runs. Terms under two characters
    cannot be searched and are said to be so."""
    query = (query or "").strip()
    if not query:
        raise QueryError("请输入检索词")
    if len(query) > MAX_QUERY:
        raise QueryError(f"检索词过长 (最多 {MAX_QUERY} 字)")
    groups: list[list[Node]] = [[]]
    negate = False
    short: list[str] = []
    for m in _TOKEN.finditer(query):
        quoted, word = m.group(1), m.group(2)
        if word is not None:
            low = word.lower()
            if low in OR_WORDS:
                groups.append([])
                continue
            if low in AND_WORDS:
                continue
            if low in NOT_WORDS:
                negate = True
                continue
            if word.startswith("-") and len(word) > 1:
                negate, word = True, word[1:]
        text = quoted if quoted is not None else word
        term = _term(" ".join(runs(text))) if quoted is not None else _term(text)
        if quoted is not None and term is not None:
            # Inside quotes, runs stay one phrase per run (spaces do not join characters).
            term = Term([r for r in runs(text) if len(r) >= 2])
        if term is None:
            short.append(text)
            negate = False
            continue
        node = Node("term", term=term)
        groups[-1].append(Node("not", [node]) if negate else node)
        negate = False
    groups = [g for g in groups if any(n.op != "not" for n in g)]
    if not groups:
        if short:
            raise QueryError("检索词至少需要两个字 (单个汉字、字母或数字无法准确检索)")
        raise QueryError("请输入检索词")
    ors = [Node("and", g) if len(g) > 1 else g[0] for g in groups]
    return ors[0] if len(ors) == 1 else Node("or", ors)


def terms_of(node: Node) -> list[str]:
    """The positive terms' runs, for highlighting."""
    if node.op == "term":
        return list(node.term.runs)
    if node.op == "not":
        return []
    out: list[str] = []
    for child in node.children:
        out.extend(terms_of(child))
    return out


def matches(node: Node, haystack_runs: list[str]) -> bool:
    """The brute-force meaning of a query over a document's runs (used by tests and to
    highlight): a term matches when each of its runs is a substring of some run."""
    if node.op == "term":
        return all(any(r in h for h in haystack_runs) for r in node.term.runs)
    if node.op == "not":
        return not matches(node.children[0], haystack_runs)
    if node.op == "and":
        return all(matches(c, haystack_runs) for c in node.children)
    return any(matches(c, haystack_runs) for c in node.children)
