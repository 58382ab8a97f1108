"""Keyword search over 1.1 M residents (Shibei scale) through the product's own search function
with a scope, beside the same queries as a LIKE scan in the same run. Targets (DESIGN.md):
SQLite p95 ≤ 30 ms and ≥ 25× faster than LIKE; PostgreSQL p95 ≤ 250 ms and ≥ 3× faster; a
zero-hit query never reads the people table.

    YIWANG_VAR=/tmp/search-bench .venv/bin/python bench/search.py
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/yiwang_bench_search .venv/bin/python bench/search.py

Builds what is missing first (tree, residents, index), with progress on stderr.
"""

from __future__ import annotations

import sys
import time

from _common import backend_name, bench_line, percentile, setup

TWO = ["独居", "高龄", "伊春", "王伟", "市北", "低保", "残疾", "火星"]
LONGER = ["伊春路", "独居老人", "留守儿童", "紫云台小区", "zhangwei", "铁山路22号", "火星移民"]
ROUNDS = 5


def ensure_data() -> None:
    from django.core.management import call_command

    from yiwang.org.models import District
    from yiwang.registry.models import Resident
    from yiwang.search.backends import backend

    call_command("migrate", verbosity=0, interactive=False)
    if not District.objects.exists():
        from yiwang.demo.org import build_tree

        print("building the Shibei tree …", file=sys.stderr)
        build_tree(scale="shibei")
    if not Resident.objects.exists():
        from yiwang.demo.org import Built
        from yiwang.demo.registry import build_registry
        from yiwang.org.models import Grid

        built = Built(district=District.objects.get(), grids=list(Grid.objects.all()))
        t = time.perf_counter()
        build_registry(built, scale="shibei")
        print(f"# residents built in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    engine = backend()
    if engine.count('"zzkr"' if backend_name() == "sqlite" else "zzkr") == 0:
        from tqdm import tqdm

        from yiwang.search.index import rebuild

        bar = tqdm(desc="index", unit="doc", file=sys.stderr)

        def progress(done, total):
            bar.total = total
            bar.n = done
            bar.refresh()

        t = time.perf_counter()
        rebuild(progress=progress)
        print(f"# index built in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    else:
        from yiwang.search.index import flush, pending

        while pending():
            flush(limit=50_000)


def actor():
    from django.contrib.auth import get_user_model

    from yiwang.org.models import RoleKind, Street
    from yiwang.org.services import role_grant

    user, created = get_user_model().objects.get_or_create(username="bench-street")
    if created:
        role_grant(
            actor=None,
            user=user,
            kind=RoleKind.STREET_STAFF,
            node=Street.objects.order_by("id").first(),
        )
    return user


def like_scan(user, term: str) -> int:
    from django.db.models import Q

    from yiwang.registry.models import Resident
    from yiwang.registry.selectors import resident_scope_q

    q = Q()
    for field in ("name", "address", "workplace", "notes", "hukou_address"):
        q |= Q(**{f"{field}__contains": term})
    q |= Q(tags__name__contains=term)
    qs = (
        Resident.objects.filter(resident_scope_q(user), archived_at__isnull=True)
        .filter(q)
        .distinct()
    )
    total = qs.count()
    list(qs.order_by("id")[:50])
    return total


def main() -> None:
    setup()
    ensure_data()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from yiwang.registry.models import Resident
    from yiwang.search.selectors import search

    db = backend_name()
    user = actor()
    print(f"# {Resident.objects.count():,} residents; scope: one street", file=sys.stderr)
    fts = {"2char": [], "longer": []}
    like = {"2char": [], "longer": []}
    for group, terms in (("2char", TWO), ("longer", LONGER)):
        for term in terms:
            result = search(actor=user, query=term, purpose="statistics")
            t = time.perf_counter()
            like_total = like_scan(user, term)
            like[group].append((time.perf_counter() - t) * 1000)
            for _ in range(ROUNDS):
                t = time.perf_counter()
                result = search(actor=user, query=term, purpose="statistics")
                fts[group].append((time.perf_counter() - t) * 1000)
            print(f"# {term}: {result.total} hits (LIKE {like_total})", file=sys.stderr)
    targets = {"sqlite": (30, 25), "postgresql": (250, 3)}[db]
    for group in ("2char", "longer"):
        bench_line(f"search.p50.{group}.{db}", percentile(fts[group], 50), "ms", "<=", targets[0])
        bench_line(f"search.p95.{group}.{db}", percentile(fts[group], 95), "ms", "<=", targets[0])
        bench_line(f"search.like.p50.{group}.{db}", percentile(like[group], 50), "ms", ">=", 0)
        speedup = percentile(like[group], 50) / max(percentile(fts[group], 50), 1e-6)
        bench_line(f"search.speedup.{group}.{db}", speedup, "x", ">=", targets[1])
    with CaptureQueriesContext(connection) as ctx:
        search(actor=user, query="火星移民", purpose="statistics")
    reads = sum("registry_resident" in q["sql"] for q in ctx.captured_queries)
    bench_line(f"search.zero_hit.table_reads.{db}", reads, "queries", "<=", 0)


if __name__ == "__main__":
    main()
