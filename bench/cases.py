"""Cases at Shibei scale: (1) case creation over HTTP against a real gunicorn (2 workers) next
to a bare Django JSON endpoint served the same way, driven by wrk at 1, 8 and 32 clients;
(2) desk-queue latency over 5 M cases for a district leader, a street and a community.
Targets (DESIGN.md): creation ≥ 25% of the bare rate, p99 ≤ 100 ms at 32 clients; queue p95
≤ 200 ms.

    .venv/bin/python bench/cases.py                      # SQLite, var/bench-shibei
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/yiwang_bench_cases \\
        .venv/bin/python bench/cases.py --db postgresql
    .venv/bin/python bench/cases.py --scale small --part http   # quick, on the small demo

The database is built when absent (demo tree, users, then the cases: 30–40 minutes for 5 M on
a busy 2-core machine, progress on stderr). Needs `wrk` (apt-get install wrk) for the HTTP part.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _common import ROOT, backend_name, bench_line, percentile, setup

CLIENTS = (1, 8, 32)
SECONDS = 10
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/yiwang_bench_cases"

WRK_SCRIPT = r"""
local bodies, tokens = {}, {}
local n = 0
local run = ""
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
function init(args)
  for line in io.lines(args[1]) do table.insert(bodies, line) end
  for line in io.lines(args[2]) do table.insert(tokens, line) end
  run = args[3]
end
function request()
  n = n + 1
  local body = bodies[(n % #bodies) + 1]
  body = body:gsub("__KEY__", "bench-" .. run .. "-" .. tid .. "-" .. n)
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. tokens[((n + tid) % #tokens) + 1]
  return wrk.format("POST", "/api/v1/cases/", headers, body)
end
function done(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %.3f %.3f\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(99) / 1000, latency:percentile(50) / 1000))
end
"""

BARE_SCRIPT = r"""
function done(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %.3f %.3f\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(99) / 1000, latency:percentile(50) / 1000))
end
"""


def progress(done: int, total: int) -> None:
    print(f"\r  {done:,}/{total:,} cases", end="", file=sys.stderr, flush=True)
    if done >= total:
        print(file=sys.stderr)


def ensure_database(scale: str, skip_generate: bool) -> None:
    """The demo tree, its users and the cases, built once."""
    from django.core.management import call_command

    from yiwang.cases.models import Case
    from yiwang.org.models import District

    call_command("migrate", verbosity=0, interactive=False)
    if not District.objects.exists():
        print(f"building the {scale} demo district (once) …", file=sys.stderr)
        from yiwang.demo import build_demo

        build_demo(scale=scale)
    if not skip_generate and not Case.objects.exists():
        from yiwang.demo.cases import build_cases, load_built

        print(f"generating the {scale} cases (once; 5 M take 30–40 min) …", file=sys.stderr)
        t = time.perf_counter()
        n = build_cases(load_built(), scale=scale, progress=progress)
        print(f"# generated {n:,} cases in {time.perf_counter() - t:.0f} s", file=sys.stderr)


# -- (1) HTTP ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(app: str, port: int, chdir: Path, env: dict) -> subprocess.Popen:
    argv = [
        sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}", "--workers", "2",
        "--chdir", str(chdir), "--access-logfile", "/dev/null", "--timeout", "120",
    ]  # fmt: skip
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return proc


def wait_ready(url: str, proc: subprocess.Popen) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 (loopback)
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server at {url} not ready")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def wrk(url: str, clients: int, seconds: int, script: Path, args: list[str]) -> dict:
    threads = 1 if clients == 1 else 2
    argv = ["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{seconds}s", "-s", str(script)]
    out = subprocess.run(
        [*argv, "--timeout", "10s", url, "--", *args],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    _, requests, errors, duration_us, p99, p50 = line.split()
    return {
        "rate": int(requests) / (int(duration_us) / 1e6),
        "errors": int(errors),
        "requests": int(requests),
        "p99": float(p99),
        "p50": float(p50),
    }


def bodies_file(path: Path, n: int = 2000) -> None:
    """Realistic bodies: leaf categories, points inside grids, the document's wording."""
    from yiwang.cases.models import Category
    from yiwang.org.models import Building

    rnd = random.Random(7)
    cats = list(Category.objects.filter(parent__isnull=False).values_list("id", "name"))
    places = list(
        Building.objects.order_by("id").values_list("road", "number", "compound", "lat", "lng")
    )
    lines = []
    for _ in range(n):
        cid, cname = rnd.choice(cats)
        road, number, compound, lat, lng = rnd.choice(places)
        where = f"{road}{number}号{compound}"
        body = {
            "category_id": cid,
            "title": f"{where}{cname}问题"[:120],
            "description": f"市北区{where}门口早晨7点左右{cname}问题突出,影响居民生活,请尽快处理,并答复。",
            "lat": lat,
            "lng": lng,
            "channel": "resident",
            "reporter_name": rnd.choice("刘王张李赵陈") + rnd.choice(["先生", "女士"]),
            "reporter_phone": "139" + "".join(rnd.choice("0123456789") for _ in range(8)),
            "idempotency_key": "__KEY__",
        }
        lines.append(json.dumps(body, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n")


def tokens_file(path: Path, n: int = 8) -> None:
    from django.contrib.auth import get_user_model

    from yiwang.org.services import api_token_create

    User = get_user_model()
    keys = []
    for i in range(n):
        user, _ = User.objects.get_or_create(username=f"bench-resident-{i}")
        _token, key = api_token_create(actor=None, user=user, name="bench")
        keys.append(key)
    path.write_text("\n".join(keys) + "\n")


def cleanup_created(first_id: int) -> int:
    """The benchmark's own cases go again, so that repeated runs measure the same queues."""
    from django.db import transaction

    from yiwang.cases.models import Case, CaseEvent, Follower

    with transaction.atomic():
        CaseEvent.objects.filter(case_id__gt=first_id).delete()
        Follower.objects.filter(case_id__gt=first_id).delete()
        n, _ = Case.objects.filter(id__gt=first_id).delete()
    return n


def bench_http(db: str) -> None:
    from yiwang.cases.models import Case

    if shutil.which("wrk") is None:
        print("# wrk not found: apt-get install wrk; skipping the HTTP part", file=sys.stderr)
        return
    work = Path(tempfile.mkdtemp(prefix="yiwang-bench-"))
    bodies_file(work / "bodies.jsonl")
    tokens_file(work / "tokens.txt")
    (work / "create.lua").write_text(WRK_SCRIPT)
    (work / "bare.lua").write_text(BARE_SCRIPT)
    first_id = Case.objects.order_by("-id").values_list("id", flat=True).first() or 0
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    app_env = {**env, "DJANGO_SETTINGS_MODULE": "yiwang.settings"}
    p_app, p_bare = free_port(), free_port()
    app = start_server("yiwang.wsgi:application", p_app, ROOT / "src", app_env)
    bare = start_server("bare_app:application", p_bare, ROOT / "bench", env)
    try:
        wait_ready(f"http://127.0.0.1:{p_app}/api/v1/cases/categories", app)
        wait_ready(f"http://127.0.0.1:{p_bare}/ok", bare)
        create_url = f"http://127.0.0.1:{p_app}"
        bare_url = f"http://127.0.0.1:{p_bare}/ok"
        files = [str(work / "bodies.jsonl"), str(work / "tokens.txt")]
        stamp = f"{time.time():.0f}"

        def args(c):  # idempotency keys unique across runs: every POST creates a case
            return [*files, f"{stamp}-{c}"]

        wrk(create_url, 8, 2, work / "create.lua", args("warm"))  # warm both
        wrk(bare_url, 8, 2, work / "bare.lua", [])
        results = {}
        for c in CLIENTS:
            results[("bare", c)] = wrk(bare_url, c, SECONDS, work / "bare.lua", [])
            results[("create", c)] = wrk(create_url, c, SECONDS, work / "create.lua", args(c))
        for (kind, c), r in results.items():
            print(
                f"# {kind} c={c}: {r['requests']} requests, {r['errors']} errors, "
                f"p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms"
            )
        for c in CLIENTS:
            b, r = results[("bare", c)], results[("create", c)]
            if r["errors"]:
                print(f"# create c={c}: {r['errors']} failed requests", file=sys.stderr)
            bench_line(f"cases.http.bare.rate.c{c}", b["rate"], "req/s", ">=", 0)
            bench_line(f"cases.http.create.rate.c{c}.{db}", r["rate"], "req/s", ">=",
                       round(0.25 * b["rate"]))  # fmt: skip
            bench_line(f"cases.http.create.p99.c{c}.{db}", r["p99"], "ms", "<=", 100)
            bench_line(f"cases.http.create.ratio.c{c}.{db}", 100 * r["rate"] / b["rate"], "%",
                       ">=", 25)  # fmt: skip
    finally:
        stop(app)
        stop(bare)
        shutil.rmtree(work, ignore_errors=True)
        n = cleanup_created(first_id)
        print(f"# removed the {n} rows the benchmark created", file=sys.stderr)


# -- (2) desk queues ---------------------------------------------------------------------------


def bench_queue(db: str, rounds: int = 40) -> None:
    from django.contrib.auth import get_user_model

    from yiwang.cases.models import Case
    from yiwang.cases.selectors import case_queue, queue_counts
    from yiwang.cases.states import OPEN_STATES

    User = get_user_model()
    total = Case.objects.count()
    open_n = Case.objects.filter(state__in=OPEN_STATES).count()
    print(f"# {total:,} cases, {open_n:,} open")
    desks = [("district", "leader"), ("street", "jimolu"), ("community", "xingde")]
    for label, username in desks:
        actor = User.objects.get(username=username)
        samples = []
        for i in range(rounds + 3):
            t = time.perf_counter()
            rows = list(case_queue(actor=actor)[:50])
            counts = queue_counts(actor=actor)
            if i >= 3:  # the first rounds warm the caches
                samples.append((time.perf_counter() - t) * 1000)
        print(f"# {label} ({username}): {len(rows)} rows, counts {counts}")
        bench_line(f"cases.queue.p50.{label}.{db}", percentile(samples, 50), "ms", "<=", 200)
        bench_line(f"cases.queue.p95.{label}.{db}", percentile(samples, 95), "ms", "<=", 200)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--scale", choices=["small", "shibei"], default="shibei")
    ap.add_argument("--skip-generate", action="store_true", help="use the cases already there")
    ap.add_argument("--part", choices=["all", "http", "queue"], default="all")
    a = ap.parse_args()
    if a.db == "postgresql":
        os.environ.setdefault("DATABASE_URL", DEFAULT_PG)
        url = os.environ["DATABASE_URL"]
        name = url.rsplit("/", 1)[-1]
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-U", "postgres", name], capture_output=True
        )  # exists already: fine
    else:
        os.environ.pop("DATABASE_URL", None)
        if a.scale == "small":
            os.environ.setdefault("YIWANG_VAR", str(ROOT / "var" / "bench-small"))
    setup()
    db = backend_name()
    ensure_database(a.scale, a.skip_generate)
    if a.part in ("all", "queue"):
        bench_queue(db)
    if a.part in ("all", "http"):
        bench_http(db)


if __name__ == "__main__":
    main()
