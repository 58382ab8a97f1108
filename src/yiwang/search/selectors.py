"""The product's one search over people, places and organisations: scoped to what the actor may
see, logged with its purpose, exact counts, a page of hits with highlights, and facets."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from yiwang.org.models import Community, Street
from yiwang.registry.models import Organization, Place, Resident, Tag
from yiwang.registry.privacy import access_log_write, purpose_clean, resident_masked
from yiwang.registry.selectors import registry_scope

from . import index
from .backends import backend, split_doc_id
from .text import Node, QueryError, normalize, parse, terms_of

KINDS = {"resident": "zzkr", "place": "zzkp", "organization": "zzko"}
# Flush the queue before a search when this little is waiting, so edits show at once.
FLUSH_BEFORE_SEARCH = 2_000


@dataclass
class Filters:
    kind: str = "resident"
    street_id: int | None = None
    community_id: int | None = None
    grid_id: int | None = None
    tag_ids: list[int] = field(default_factory=list)
    age_min: int | None = None
    age_max: int | None = None
    residence_type: str = ""


@dataclass
class Hit:
    kind: str
    id: int
    title: str
    snippet: str
    grid_id: int | None
    record: object


@dataclass
class Result:
    query: str
    total: int
    page: int
    page_size: int
    hits: list[Hit]
    facets: dict = field(default_factory=dict)


def scope_tokens(actor) -> list[str] | None:
    """OR-group of tokens the actor's scope allows; None = the whole district; [] = nothing."""
    scope, departments = registry_scope(actor)
    if scope.everything:
        return None
    tokens = [f"zzs{i}" for i in sorted(scope.street_ids)]
    tokens += [f"zzc{i}" for i in sorted(scope.community_ids)]
    tokens += [f"zzg{i}" for i in sorted(scope.grid_ids)]
    tokens += [f"zzl{i}" for i in sorted(departments)]
    return tokens


def _birth_years(age_min: int | None, age_max: int | None) -> list[str]:
    """Ages counted by birth year this year (an 80-year-old was born in this year − 80)."""
    this_year = timezone.localdate().year
    low = 0 if age_min is None else age_min
    high = 120 if age_max is None else age_max
    return [f"zzy{this_year - age}" for age in range(low, high + 1)]


def required_groups(actor, f: Filters) -> list[list[str]]:
    groups: list[list[str]] = [[KINDS[f.kind]]]
    scope = scope_tokens(actor)
    if scope is not None:
        groups.append(scope)
    if f.street_id:
        groups.append([f"zzs{int(f.street_id)}"])
    if f.community_id:
        groups.append([f"zzc{int(f.community_id)}"])
    if f.grid_id:
        groups.append([f"zzg{int(f.grid_id)}"])
    for tag in f.tag_ids:
        groups.append([f"zzt{int(tag)}"])
    if f.age_min is not None or f.age_max is not None:
        groups.append(_birth_years(f.age_min, f.age_max))
    if f.residence_type:
        groups.append([f"zzrt{re.sub(r'[^a-z_]', '', f.residence_type)}"])
    return groups


def highlight(text: str, terms: list[str], limit: int = 120) -> str:
    """Escaped text with <mark> around each term (matched case-insensitively after NFKC)."""
    if not text:
        return ""
    norm = normalize(text)
    if len(norm) != len(text):
        norm, text = text.lower(), text  # keep positions aligned when NFKC changed lengths
    spans = []
    for term in sorted(set(terms), key=len, reverse=True):
        start = 0
        while (i := norm.find(term, start)) >= 0:
            spans.append((i, i + len(term)))
            start = i + 1
    if spans:
        first = min(s for s, _ in spans)
        lo = max(0, first - 20)
    else:
        lo = 0
    text_part = text[lo : lo + limit]
    marks = sorted((s - lo, e - lo) for s, e in spans if s >= lo and e <= lo + limit)
    out, pos = [], 0
    for s, e in marks:
        if s < pos:
            continue
        out.append(escape(text_part[pos:s]))
        out.append("<mark>" + escape(text_part[s:e]) + "</mark>")
        pos = e
    out.append(escape(text_part[pos:]))
    return mark_safe(("…" if lo else "") + "".join(out))


# Columns a page of hits never shows: not read, not converted.
_UNSHOWN = ("lat", "lng", "address_message", "created_by", "created_at", "updated_at")


def _load(kind: str, ids: list[int]) -> tuple[dict[int, object], dict[int, list[str]]]:
    """The page's records by id, and residents' tag names by id: one query each. (Django's
    prefetch builds a queryset per record, which cost more than the search itself.)"""
    if not ids:
        return {}, {}
    model = {"resident": Resident, "place": Place, "organization": Organization}[kind]
    qs = model.objects.filter(id__in=ids).defer(*_UNSHOWN)
    tags: dict[int, list[str]] = {}
    if kind == "resident":
        qs = qs.defer("field_sources")
        links = (
            Resident.tags.through.objects.filter(resident_id__in=ids)
            .order_by("resident_id", "tag_id")
            .values_list("resident_id", "tag__name")
        )
        for rid, name in links:
            tags.setdefault(rid, []).append(name)
    return {o.id: o for o in qs}, tags


def _snippet(fields: list[str], terms: list[str], fallback: str) -> str:
    for text in fields:
        if text:
            norm = normalize(text)
            if any(x in norm for x in terms):
                return highlight(text, terms)
    return highlight(fallback, terms)


def _hit(kind: str, obj, terms: list[str], tags: list[str]) -> Hit:
    if kind == "resident":
        masked = resident_masked(obj, tags=tags)
        fields = [obj.address, obj.workplace, obj.notes, " ".join(masked["tags"])]
        snippet = _snippet(fields, terms, obj.address)
        return Hit(kind, obj.id, highlight(obj.name, terms), snippet, obj.grid_id, masked)
    snippet = _snippet([obj.address, obj.notes], terms, obj.address)
    return Hit(kind, obj.id, highlight(obj.name, terms), snippet, obj.grid_id, obj)


def search(
    *,
    actor,
    query: str,
    purpose: str | None,
    reason: str = "",
    filters: Filters | None = None,
    page: int = 1,
    page_size: int = 50,
    facets: bool = False,
    channel: str = "api",
) -> Result:
    """Count + one page of hits. Raises ValidationError (field "q" or "purpose") for a query that
    cannot be searched or a missing purpose; PermissionDenied for an actor who sees nobody.
    Writes exactly one access-log row."""
    f = filters or Filters()
    if f.kind not in KINDS:
        raise ValidationError({"kind": ["未知的检索对象"]})
    purpose, reason = purpose_clean(purpose, reason, required=True)
    try:
        node: Node = parse(query)
    except QueryError as exc:
        raise ValidationError({"q": [str(exc)]}) from None
    if not 1 <= page_size <= 200:
        raise ValidationError({"page_size": ["每页条数应在 1 到 200 之间"]})
    page = max(1, int(page))
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("search")
    scope = scope_tokens(actor)
    if scope == []:
        raise PermissionDenied("search")
    if 0 < index.pending(up_to=FLUSH_BEFORE_SEARCH + 1) <= FLUSH_BEFORE_SEARCH:
        index.flush(limit=FLUSH_BEFORE_SEARCH)
    engine = backend()
    groups = required_groups(actor, f)
    expr = engine.compile(node, groups)
    total = engine.count(expr)
    ids = engine.ids(expr, page_size, (page - 1) * page_size, total=total) if total else []
    refs = [split_doc_id(i)[1] for i in ids]
    objects, tags = _load(f.kind, refs)
    terms = terms_of(node)
    hits = [_hit(f.kind, objects[r], terms, tags.get(r, [])) for r in refs if r in objects]
    result = Result(query=query, total=total, page=page, page_size=page_size, hits=hits)
    if facets and total:
        result.facets = _facets(engine, node, groups, scope, f)
    access_log_write(
        actor=actor,
        action="search",
        purpose=purpose,
        reason=reason,
        filter={
            "q": query,
            "kind": f.kind,
            "street_id": f.street_id,
            "community_id": f.community_id,
            "grid_id": f.grid_id,
            "tag_ids": f.tag_ids,
            "age_min": f.age_min,
            "age_max": f.age_max,
            "residence_type": f.residence_type,
        },
        record_count=total,
        channel=channel,
    )
    return result


def _facets(engine, node: Node, groups: list[list[str]], scope: list[str] | None, f) -> dict:
    """Counts by street, by community (within one street or the actor's communities) and by
    tag within the current result, one count each. A one-term count at street scope is read
    from the substring counts, so the street facets of a district-wide result stay cheap."""

    def count(token: str) -> int:
        return engine.count(engine.compile(node, [*groups, [token]]))

    scope = scope or []
    scope_streets = {int(t[3:]) for t in scope if t.startswith("zzs")}
    scope_communities = {int(t[3:]) for t in scope if t.startswith("zzc")}
    streets = Street.objects.order_by("code")
    if scope:
        streets = streets.filter(id__in=scope_streets)
    by_street = []
    for street in streets:
        n = count(f"zzs{street.id}")
        if n:
            by_street.append({"id": street.id, "name": street.name, "count": n})
    one_street = f.street_id or (
        next(iter(scope_streets)) if len(scope_streets) == 1 and len(scope) == 1 else None
    )
    communities = Community.objects.none()
    if one_street:
        communities = Community.objects.filter(street_id=one_street)
    elif scope_communities:
        communities = Community.objects.filter(id__in=scope_communities)
    by_community = []
    for community in communities.order_by("code"):
        n = count(f"zzc{community.id}")
        if n:
            by_community.append({"id": community.id, "name": community.name, "count": n})
    by_tag = []
    if f.kind == "resident":
        for tag in Tag.objects.filter(is_active=True).order_by("id"):
            n = count(f"zzt{tag.id}")
            if n:
                by_tag.append({"id": tag.id, "name": tag.name, "count": n})
    return {"street": by_street, "community": by_community, "tag": by_tag}


__all__ = ["search", "Filters", "Result", "Hit", "dt"]
