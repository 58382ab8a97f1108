"""Open311 intake over HTTP: POST requests.json (form-encoded, api_key) against a real gunicorn
(2 workers) beside a bare Django JSON endpoint served the same way, at 1, 8 and 32 clients.
Targets (DESIGN.md): ≥ 25% of the bare rate; p99 ≤ 100 ms at 32 clients.

    .venv/bin/python bench/intake.py                 # YIWANG_VAR or var/bench-shibei
    YIWANG_VAR=/tmp/demo .venv/bin/python bench/intake.py --scale small

Needs `wrk` (apt-get install wrk). The cases it creates are removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from _common import ROOT, backend_name, bench_line, setup
from cases import (
    BARE_SCRIPT,
    CLIENTS,
    SECONDS,
    cleanup_created,
    free_port,
    start_server,
    stop,
    wait_ready,
    wrk,
)

SCRIPT = r"""
local bodies = {}
local n = 0
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
function init(args)
  for line in io.lines(args[1]) do table.insert(bodies, line) end
end
function request()
  n = n + 1
  local headers = {}
  headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
  return wrk.format("POST", "/open311/v2/requests.json", headers, bodies[((n + tid) % #bodies) + 1])
end
function done(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %.3f %.3f\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(99) / 1000, latency:percentile(50) / 1000))
end
"""


def bodies(path: Path, key: str, n: int = 2000) -> None:
    from yiwang.cases.models import Category
    from yiwang.org.models import Building

    rnd = random.Random(11)
    codes = list(Category.objects.filter(parent__isnull=False).values_list("code", "name"))
    places = list(Building.objects.values_list("road", "number", "compound", "lat", "lng")[:20000])
    lines = []
    for _ in range(n):
        code, name = rnd.choice(codes)
        road, number, compound, lat, lng = rnd.choice(places)
        lines.append(
            urlencode(
                {
                    "api_key": key,
                    "service_code": code,
                    "lat": lat,
                    "long": lng,
                    "description": f"市北区{road}{number}号{compound}{name}问题,请尽快处理并答复。",
                    "first_name": "先生",
                    "last_name": rnd.choice("刘王张李赵"),
                    "phone": "139" + "".join(rnd.choice("0123456789") for _ in range(8)),
                }
            )
        )
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="shibei", choices=["small", "shibei"])
    args = parser.parse_args()
    setup()
    from django.core.management import call_command

    from yiwang.cases.models import Case
    from yiwang.intake.keys import api_client_create
    from yiwang.org.models import District

    call_command("migrate", verbosity=0, interactive=False)
    if not District.objects.exists():
        from yiwang.demo import build_demo

        print(f"building the {args.scale} demo (once) …", file=sys.stderr)
        build_demo(scale=args.scale)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")
    db = backend_name()
    _client, key = api_client_create(
        actor=None, name=f"bench-{time.time():.0f}", rate_per_minute=10**9
    )
    work = Path(tempfile.mkdtemp(prefix="yiwang-intake-"))
    bodies(work / "bodies.txt", key)
    (work / "post.lua").write_text(SCRIPT)
    (work / "bare.lua").write_text(BARE_SCRIPT)
    first_id = Case.objects.order_by("-id").values_list("id", flat=True).first() or 0
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    app_env = {**env, "DJANGO_SETTINGS_MODULE": "yiwang.settings"}
    p_app, p_bare = free_port(), free_port()
    app = start_server("yiwang.wsgi:application", p_app, ROOT / "src", app_env)
    bare = start_server("bare_app:application", p_bare, ROOT / "bench", env)
    try:
        wait_ready(f"http://127.0.0.1:{p_app}/open311/v2/discovery.json", app)
        wait_ready(f"http://127.0.0.1:{p_bare}/ok", bare)
        url, bare_url = f"http://127.0.0.1:{p_app}", f"http://127.0.0.1:{p_bare}/ok"
        wrk(url, 8, 2, work / "post.lua", [str(work / "bodies.txt")])
        wrk(bare_url, 8, 2, work / "bare.lua", [])
        for c in CLIENTS:
            b = wrk(bare_url, c, SECONDS, work / "bare.lua", [])
            r = wrk(url, c, SECONDS, work / "post.lua", [str(work / "bodies.txt")])
            print(f"# c={c}: {r['requests']} requests, {r['errors']} errors, p50 {r['p50']:.1f} ms")
            bench_line(f"intake.http.bare.rate.c{c}", b["rate"], "req/s", ">=", 0)
            bench_line(
                f"intake.open311.rate.c{c}.{db}", r["rate"], "req/s", ">=", round(0.25 * b["rate"])
            )
            bench_line(f"intake.open311.p99.c{c}.{db}", r["p99"], "ms", "<=", 100)
            bench_line(
                f"intake.open311.ratio.c{c}.{db}", 100 * r["rate"] / b["rate"], "%", ">=", 25
            )
    finally:
        stop(app)
        stop(bare)
        shutil.rmtree(work, ignore_errors=True)
        from django.db import transaction

        from yiwang.intake.models import Open311Request

        with transaction.atomic():
            Open311Request.objects.filter(case_id__gt=first_id).delete()
        print(f"# removed {cleanup_created(first_id)} cases the benchmark created", file=sys.stderr)


if __name__ == "__main__":
    main()
