"""Building documents from the registry and keeping the index in step with it."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import transaction

from yiwang.registry.models import Organization, Place, Resident, ResidentLink

from .backends import GramDelta, backend, doc_id
from .models import SearchQueue
from .text import GRAM_MAX, body, pinyin_forms


def _scope_tokens(grid) -> list[str]:
    if grid is None:
        return ["zznogrid"]
    return [f"zzs{grid.street_id}", f"zzc{grid.community_id}", f"zzg{grid.id}"]


def resident_body(r: Resident, tag_names: list[str], tag_ids: list[int], depts: list[int]) -> str:
    texts = [r.name, *pinyin_forms(r.name), r.address, r.workplace, r.notes, r.hukou_address]
    texts += tag_names
    texts += [s if isinstance(s, str) else str(s) for s in (r.sources or [])]
    tokens = ["zzkr", *_scope_tokens(r.grid)]
    tokens += [f"zzt{t}" for t in tag_ids]
    tokens += [f"zzl{d}" for d in depts]
    if r.birth_date:
        tokens.append(f"zzy{r.birth_date.year}")
    if r.residence_type:
        tokens.append(f"zzrt{r.residence_type}")
    return body(texts, tokens)


def place_body(p: Place) -> str:
    texts = [p.name, p.address, p.notes, p.get_kind_display()]
    return body(texts, ["zzkp", *_scope_tokens(p.grid), f"zzpk{p.kind}"])


def organization_body(o: Organization) -> str:
    texts = [o.name, o.address, o.notes, o.contact_name, o.get_kind_display()]
    return body(texts, ["zzko", *_scope_tokens(o.grid), f"zzok{o.kind}"])


def _documents(kind: str, ids: Iterable[int]) -> tuple[list[tuple[int, str]], list[int]]:
    """(doc id, body) for live records; doc ids to delete for archived or missing ones."""
    ids = list(ids)
    live: list[tuple[int, str]] = []
    if kind == "r":
        qs = (
            Resident.objects.filter(id__in=ids, archived_at__isnull=True)
            .select_related("grid")
            .prefetch_related("tags")
        )
        links: dict[int, list[int]] = {}
        for rid, dept in ResidentLink.objects.filter(resident_id__in=ids).values_list(
            "resident_id", "department_id"
        ):
            links.setdefault(rid, []).append(dept)
        for r in qs:
            tags = list(r.tags.all())
            live.append(
                (
                    doc_id("r", r.id),
                    resident_body(
                        r, [t.name for t in tags], [t.id for t in tags], links.get(r.id, [])
                    ),
                )
            )
    elif kind == "p":
        for p in Place.objects.filter(id__in=ids, archived_at__isnull=True).select_related("grid"):
            live.append((doc_id("p", p.id), place_body(p)))
    else:
        qs = Organization.objects.filter(id__in=ids, archived_at__isnull=True).select_related(
            "grid"
        )
        for o in qs:
            live.append((doc_id("o", o.id), organization_body(o)))
    alive = {d for d, _ in live}
    gone = [doc_id(kind, i) for i in ids if doc_id(kind, i) not in alive]
    return live, gone


def pending(up_to: int | None = None) -> int:
    """How many queue rows wait (counting no further than `up_to`, which is cheap)."""
    if up_to is not None:
        # Along the key: a queue just drained leaves its pages behind until vacuumed, and a
        # scan of the table would read them all.
        return SearchQueue.objects.order_by("id").values_list("id")[:up_to].count()
    return SearchQueue.objects.count()


def flush(limit: int = 5_000) -> int:
    """Indexes what the triggers queued, oldest first; returns how many queue rows it took."""
    rows = list(SearchQueue.objects.order_by("id").values_list("id", "kind", "ref_id")[:limit])
    if not rows:
        return 0
    engine = backend()
    with transaction.atomic():
        by_kind: dict[str, set[int]] = {}
        for _id, kind, ref in rows:
            by_kind.setdefault(kind, set()).add(ref)
        for kind, refs in by_kind.items():
            live, gone = _documents(kind, refs)
            if gone:
                engine.delete(gone)
            engine.upsert(live)
        SearchQueue.objects.filter(id__in=[r[0] for r in rows]).delete()
    return len(rows)


def regram(progress: Callable[[int], None] | None = None) -> int:
    """Recounts the substring counts from the index (after GRAM_MAX changed)."""
    engine = backend()
    done = engine.regram(progress=progress)
    engine.queue_compact()
    engine.analyze()
    return done


def compact() -> bool:
    """After a bulk import has been indexed: frees the drained queue's space, so that the
    check before each search stays cheap (PostgreSQL; a no-op on SQLite)."""
    return backend().queue_compact()


def rebuild(progress: Callable[[int, int], None] | None = None, batch: int = 5_000) -> int:
    """Re-indexes everything from the registry, in batches, with progress."""
    engine = backend()
    with transaction.atomic():
        engine.clear()
        engine.queue_clear()
    sources = [
        ("r", Resident.objects.filter(archived_at__isnull=True)),
        ("p", Place.objects.filter(archived_at__isnull=True)),
        ("o", Organization.objects.filter(archived_at__isnull=True)),
    ]
    total = sum(qs.count() for _, qs in sources)
    done = 0
    # Summed here and written once (sorted) at the end: a batch at a time, every common
    # substring's row would be rewritten hundreds of times. Until then searches count with
    # the engine (search_gram says it covers nothing).
    grams = GramDelta()
    for kind, qs in sources:
        ids = list(qs.order_by("id").values_list("id", flat=True))
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            live, _gone = _documents(kind, chunk)
            with transaction.atomic():
                engine.upsert(live, fresh=True, grams=grams)
            done += len(chunk)
            if progress:
                progress(done, total)
    with transaction.atomic():
        engine.write_delta(grams)
        engine.gram_mark(GRAM_MAX)
    engine.queue_compact()
    engine.analyze()
    return done
