"""Ranking latency: providers for one demand among 10 k providers and 100 k open demands, on a
Shibei-scale tree (940 grids), through the product's own `ranking.rank`. Target (issue 8):
p95 ≤ 50 ms.

    .venv/bin/python bench/matching.py                                  # SQLite, var/bench-matching
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/yiwang_bench_matching \\
        .venv/bin/python bench/matching.py

Builds what is missing (tree, 100 k residents, 10 k providers with services, areas, slots and
records, 100 k open demands and 20 k done ones for the past-work signal), deterministic, with
progress on stderr. The data is bench data written in bulk; the timed part is only `rank`."""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import backend_name, bench_line, percentile, setup  # noqa: E402

TARGET_MS = 50
N_PROVIDERS = 10_000
N_OPEN = 100_000
N_DONE = 20_000
N_RESIDENTS = 100_000
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "秀英桂兰玉兰建国志强丽娟海燕德明春梅国华淑珍凤英"


def progress(label: str, done: int, total: int) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    print(
        f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}",
        end="",
        file=sys.stderr,
        flush=True,
    )
    if done >= total:
        print(file=sys.stderr)


def build(rnd: random.Random) -> None:
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from yiwang.demo import ensure_seed_data
    from yiwang.demo.org import build_tree
    from yiwang.matching.models import Demand, Provider, ProviderArea, Service
    from yiwang.org.models import District, Grid
    from yiwang.registry.models import AddressStatus, Resident

    call_command("migrate", verbosity=0, interactive=False)
    ensure_seed_data()
    if not District.objects.exists():
        print("building the Shibei-scale tree …", file=sys.stderr)
        build_tree(scale="shibei")
    if Demand.objects.count() >= N_OPEN:
        return
    grids = list(
        Grid.objects.values_list("id", "community_id", "street_id", "center_lat", "center_lng")
    )
    services = list(Service.objects.values_list("id", flat=True))
    now = timezone.now()

    def batched(label, total, make, model, size=5000):
        done = 0
        while done < total:
            n = min(size, total - done)
            with transaction.atomic():
                model.objects.bulk_create([make(done + i) for i in range(n)], batch_size=size)
            done += n
            progress(label, done, total)

    def resident(i):
        g = grids[i % len(grids)]
        return Resident(
            name=rnd.choice(SURNAMES) + rnd.choice(GIVEN) + rnd.choice(GIVEN),
            grid_id=g[0],
            lat=g[3] + rnd.uniform(-0.002, 0.002),
            lng=g[4] + rnd.uniform(-0.002, 0.002),
            address=f"市北区第{i}号",
            address_status=AddressStatus.RESOLVED,
        )

    batched("residents", N_RESIDENTS, resident, Resident)
    first_resident = Resident.objects.order_by("id").values_list("id", flat=True).first()

    def provider(i):
        g = rnd.choice(grids)
        slots = sorted(
            {
                (d, h * 60, (h + rnd.choice((2, 3, 4))) * 60)
                for d in rnd.sample(range(7), rnd.randint(0, 4))
                for h in (rnd.choice((8, 9, 14)),)
            }
        )
        rated = rnd.randint(0, 30)
        return Provider(
            kind=rnd.choice(["volunteer"] * 8 + ["team", "partner"]),
            name=f"志愿者{i:05d}",
            home_grid_id=g[0],
            lat=g[3],
            lng=g[4],
            radius_m=rnd.choice([0] * 9 + [3000]),
            capacity=rnd.choice((1, 2, 3, 5)),
            active_count=rnd.choice((0, 0, 1, 2)),
            completed_count=rnd.randint(0, 200),
            rating_sum=sum(rnd.randint(3, 5) for _ in range(rated)),
            rating_count=rated,
            slots=[list(s) for s in slots],
            verification="verified" if rnd.random() < 0.9 else "pending",
        )

    batched("providers", N_PROVIDERS, provider, Provider)
    pids = list(Provider.objects.values_list("id", "home_grid_id"))
    by_grid = {g[0]: g for g in grids}
    through = Provider.services.through
    links, areas = [], []
    for pid, grid_id in pids:
        for sid in rnd.sample(services, rnd.randint(1, 4)):
            links.append(through(provider_id=pid, service_id=sid))
        g = by_grid[grid_id]
        level = rnd.random()
        if level < 0.6:
            areas.append(ProviderArea(provider_id=pid, grid_id=grid_id))
            if rnd.random() < 0.5:
                areas.append(ProviderArea(provider_id=pid, grid_id=rnd.choice(grids)[0]))
        elif level < 0.9:
            areas.append(ProviderArea(provider_id=pid, community_id=g[1]))
        else:
            areas.append(ProviderArea(provider_id=pid, street_id=g[2]))
    with transaction.atomic():
        through.objects.bulk_create(links, batch_size=5000)
        ProviderArea.objects.bulk_create(areas, batch_size=5000)
    print(f"services {len(links)}, areas {len(areas)}", file=sys.stderr)

    def demand(i, status="open"):
        rid = first_resident + rnd.randrange(N_RESIDENTS)
        g = grids[(rid - first_resident) % len(grids)]
        start = now + timedelta(hours=rnd.randint(2, 24 * 14))
        start = start.replace(minute=0, second=0, microsecond=0)
        pid = pids[rnd.randrange(len(pids))][0] if status == "done" else None
        return Demand(
            number=f"XQB{status[0]}{i:07d}",
            service_id=rnd.choice(services),
            resident_id=rid,
            window_start=start,
            window_end=start + timedelta(hours=rnd.choice((2, 3, 4, 48))),
            grid_id=g[0],
            community_id=g[1],
            street_id=g[2],
            lat=g[3],
            lng=g[4],
            status=status,
            provider_id=pid,
            urgency=rnd.choice(["normal"] * 4 + ["urgent"]),
        )

    batched("open demands", N_OPEN, demand, Demand)
    batched("done demands", N_DONE, lambda i: demand(i, "done"), Demand)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--var", default=str(ROOT / "var" / "bench-matching"))
    ap.add_argument("--samples", type=int, default=300)
    args = ap.parse_args()
    os.environ.setdefault("YIWANG_VAR", args.var)
    setup(args.var)
    from django.db import connection, reset_queries

    from yiwang.matching.models import Demand
    from yiwang.matching.ranking import rank

    rnd = random.Random(20261130)
    build(rnd)
    backend = backend_name()
    ids = list(
        Demand.objects.filter(status="open")
        .order_by("?")
        .values_list("id", flat=True)[: args.samples]
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as c:
            c.execute("ANALYZE")
    # Warm-up: the first queries pay for caches and statement planning.
    for did in ids[:20]:
        rank(Demand.objects.select_related("service", "grid").get(id=did))
    samples, considered, eligible, queries = [], [], [], []
    from django.conf import settings

    settings.DEBUG = True
    for did in ids:
        demand = Demand.objects.select_related("service", "grid").get(id=did)
        reset_queries()
        t0 = time.perf_counter()
        ranking = rank(demand)
        samples.append((time.perf_counter() - t0) * 1000)
        queries.append(len(connection.queries))
        considered.append(ranking.considered)
        eligible.append(ranking.eligible)
    settings.DEBUG = False
    print(
        f"# {len(ids)} demands on {backend}: considered p50 {percentile(considered, 50):.0f} "
        f"max {max(considered)}, eligible p50 {percentile(eligible, 50):.0f}, "
        f"queries per ranking {max(queries)}; load {os.getloadavg()[0]:.1f}",
        file=sys.stderr,
    )
    bench_line(f"matching.rank.p50.{backend}", percentile(samples, 50), "ms", "<=", TARGET_MS)
    bench_line(f"matching.rank.p95.{backend}", percentile(samples, 95), "ms", "<=", TARGET_MS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
