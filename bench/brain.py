"""The brains at Shibei scale: p50/p95 of each dashboard request (the JSON calls one dashboard
page makes) for district, street and community views, through the whole Django stack (test
client, session auth, scope, roll-up queries, JSON), on SQLite or PostgreSQL.

    .venv/bin/python bench/brain.py --var var/brain-bench            # SQLite copy
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/yiwang_brain .venv/bin/python bench/brain.py

The database must already hold the cases (bench/cases.py or the demo generator builds them);
the roll-ups are rebuilt when empty (or with --rebuild) and the rebuild time is printed too."""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import timedelta

from _common import backend_name, bench_line, percentile, setup

TARGET_MS = 200


def load() -> str:
    """The 1, 5 and 15 minute load averages (the machine is shared: read figures beside it)."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--var", help="YIWANG_VAR (the SQLite database's folder)")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--samples", type=int, default=40)
    args = ap.parse_args()
    if args.var:
        os.environ["YIWANG_VAR"] = os.path.abspath(args.var)
    setup()
    from django.core.management import call_command
    from django.test import Client

    from yiwang.brain.models import DailyFigure, DepartmentDayFigure
    from yiwang.brain.rollup import rollup_rebuild
    from yiwang.cases.models import Case
    from yiwang.org.models import Community, District, RoleKind, Street
    from yiwang.org.services import role_grant

    call_command("migrate", verbosity=0, interactive=False)
    backend = backend_name()
    cases = Case.objects.count()
    print(f"# {backend}: {cases:,} cases, {Street.objects.count()} streets, "
          f"{Community.objects.count()} communities", file=sys.stderr)  # fmt: skip
    print(f"# load before: {load()}", file=sys.stderr)
    rebuild = not DailyFigure.objects.exists() or not DepartmentDayFigure.objects.exists()
    if args.rebuild or rebuild:
        t = time.perf_counter()
        rows = rollup_rebuild(
            progress=lambda d, n: print(f"\r# rebuild {d}/{n} months", end="", file=sys.stderr)
        )
        took = time.perf_counter() - t
        print(f"\n# rebuilt {rows:,} daily rows in {took:.0f} s (load {load()})", file=sys.stderr)
        bench_line(f"brain.rebuild.{backend}", took, "s", "<=", 1800)
    from yiwang.brain.models import GridDayFigure
    from yiwang.brain.rollup import rollup_rebuild_coarse

    if not GridDayFigure.objects.exists():  # a database rolled up before these tables
        t = time.perf_counter()
        rollup_rebuild_coarse()
        print(f"# derived the coarse month tables in {time.perf_counter() - t:.0f} s",
              file=sys.stderr)  # fmt: skip

    from yiwang.brain.models import StarRating
    from yiwang.brain.services import stars_evaluate

    end = (
        DailyFigure.objects.filter(reported__gt=0)
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )
    last_month = (end.replace(day=1) - timedelta(days=1)).replace(day=1)
    if not StarRating.objects.filter(month=last_month).exists():
        t = time.perf_counter()
        stars_evaluate(actor=None, month=last_month)
        bench_line(f"brain.stars_evaluate.{backend}", time.perf_counter() - t, "s", "<=", 60)

    from django.contrib.auth import get_user_model

    User = get_user_model()

    def persona(username, kind, node):
        user, created = User.objects.get_or_create(username=username)
        if created:
            role_grant(actor=None, user=user, kind=kind, node=node)
        return user

    rng = random.Random(7)
    district = District.objects.order_by("id").first()
    streets = list(Street.objects.order_by("id"))
    communities = list(Community.objects.order_by("id"))
    leader = persona("bench_brain_leader", RoleKind.DISTRICT_LEADER, district)
    views = {
        "district": [(leader, "district", district.id)],
        "street": [
            (persona(f"bench_brain_s{s.id}", RoleKind.STREET_STAFF, s), "street", s.id)
            for s in streets
        ],
        "community": [
            (persona(f"bench_brain_c{c.id}", RoleKind.COMMUNITY_STAFF, c), "community", c.id)
            for c in rng.sample(communities, min(20, len(communities)))
        ],
    }
    # The calls a dashboard page makes (30 days, its default), and a year's view, ending on
    # the data's last day (a partly generated database still measures full-density days).
    month = f"start={end - timedelta(days=29)}&end={end}"
    year = f"start={end - timedelta(days=364)}&end={end}"
    requests = {
        "dashboard": f"dashboard?{month}",
        "dashboard_year": f"dashboard?{year}&grain=month",
        "departments": f"departments?{month}",
        "places": f"places?{month}",
        "live": "live",
        "stars": "stars",
    }
    clients = {}
    lines = []
    for level, targets in views.items():
        for name, path in requests.items():
            samples = []
            for i in range(args.samples + 3):
                user, lvl, node = targets[i % len(targets)]
                client = clients.get(user.id)
                if client is None:
                    client = clients[user.id] = Client()
                    client.force_login(user)
                sep = "&" if "?" in path else "?"
                url = f"/api/v1/brain/{path}{sep}level={lvl}&node={node}"
                t = time.perf_counter()
                r = client.get(url)
                ms = (time.perf_counter() - t) * 1000
                assert r.status_code == 200, (url, r.content[:300])
                if i >= 3:  # the first calls warm caches and connections
                    samples.append(ms)
            p50, p95 = percentile(samples, 50), percentile(samples, 95)
            print(f"# {level:9} {name:14} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms", file=sys.stderr)
            lines.append((f"brain.{level}.{name}.p50.{backend}", p50))
            lines.append((f"brain.{level}.{name}.p95.{backend}", p95))
    print(f"# load after: {load()}", file=sys.stderr)
    for name, value in lines:
        bench_line(name, value, "ms", "<=", TARGET_MS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
