"""Resident import speed: rows/s for 100 k and 1.1 M residents, from csv and from xlsx, on SQLite
and on PostgreSQL, through the product's own importer (validation, address resolution, matching,
batched writes; commit=True into an empty registry).

    .venv/bin/python bench/import.py [--sizes 100k,1.1M] [--formats csv,xlsx] [--db sqlite,postgres]

Each database gets a fresh Shibei-scale tree (940 grids, ~30 k buildings) in its own database:
SQLite under a temporary YIWANG_VAR, PostgreSQL in `yiwang_bench` (created when missing). The
files are generated once into bench/.data/ and reused. Prints one line per figure:
`BENCH import.<format>.<size>.<db> <rows/s> rows/s target >=10000 ok|short`."""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"
TARGET = 10_000
SIZES = {"10k": 10_000, "100k": 100_000, "1.1M": 1_100_000}
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/yiwang_bench")
HEADER = ["姓名", "性别", "身份证号", "联系电话", "住址", "户籍地", "民族", "政治面貌", "特殊人群"]


def _setup():
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from yiwang.org.models import District

    if not District.objects.exists():
        from yiwang.demo.org import build_tree

        build_tree(scale="shibei", seed=20261130)


def _rows(n: int, seed: int = 7):
    """n residents living in the tree's buildings, with valid and unique ID numbers."""
    from yiwang.demo.org import person_name
    from yiwang.org.models import Building
    from yiwang.registry.idcard import id_check_digit

    rnd = random.Random(seed)
    buildings = list(
        Building.objects.order_by("id").values_list("road", "number", "compound", "building_no")
    )
    names = [person_name(rnd) for _ in range(20_000)]
    tags = ["", "", "", "", "", "", "", "", "高龄", "独居老人", "低保"]
    for i in range(n):
        road, number, compound, bno = buildings[i * 7919 % len(buildings)]
        base = f"{road}{number}号{compound}" + (f"{bno}号楼" if bno else "")
        room = f"{i % 6 + 1}0{i % 2 + 1}"
        address = f"{base}{i % 2 + 1}单元{room}室" if compound else f"{base}{room}室"
        birth = f"{1930 + i % 90}{i % 12 + 1:02d}{i % 28 + 1:02d}"
        # The birth date repeats every lcm(90, 12, 28) = 1260 rows; the sequence tells them apart.
        seq = f"{i // 1260 % 1000:03d}"
        region = ("370203", "370202", "370212", "370281")[i // 1_260_000 % 4]
        body = f"{region}{birth}{seq}"
        yield [
            names[i % 20_000],
            "男" if int(seq[-1]) % 2 else "女",
            body + id_check_digit(body),
            f"13{i % 10}{i:08d}"[:11],
            address,
            "山东省青岛市",
            "汉族",
            "群众",
            tags[i % len(tags)],
        ]


def _files(size: str, formats: list[str]) -> dict[str, Path]:
    DATA.mkdir(parents=True, exist_ok=True)
    n = SIZES[size]
    out = {}
    for fmt in formats:
        path = DATA / f"residents-{size}.{fmt}"
        out[fmt] = path
        if path.exists():
            continue
        tmp = path.with_suffix(".part")
        started = time.perf_counter()
        if fmt == "csv":
            with open(tmp, "w", encoding="gb18030", newline="") as f:
                w = csv.writer(f)
                w.writerow(HEADER)
                w.writerows(_rows(n))
        else:
            from openpyxl import Workbook

            wb = Workbook(write_only=True)
            ws = wb.create_sheet("居民")
            ws.append(HEADER)
            for row in _rows(n):
                ws.append(row)
            wb.save(tmp)
        tmp.rename(path)
        print(f"# wrote {path.name} in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    return out


def _clear():
    from django.db import connection

    from yiwang.registry.models import AccessLog, House, Household, Resident

    with connection.cursor() as cur:
        for model in (Resident.tags.through, Resident, Household, House):
            cur.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
    AccessLog.objects.all()._raw_delete(AccessLog.objects.db)
    # The deletes above queued every resident for the search index; nobody reads it here, and
    # a queue left to grow run after run would make each run slower than the last.
    from yiwang.search.models import SearchQueue

    SearchQueue.objects.all()._raw_delete(SearchQueue.objects.db)
    if connection.vendor == "postgresql":
        # An empty registry, as a new district's is: without this the deleted rows of the run
        # before stay in the indexes (this server runs no autovacuum), and each new ID number's
        # unique check visits the dead row that had the same number.
        tables = [Resident.tags.through, Resident, Household, House, AccessLog, SearchQueue]
        with connection.cursor() as cur:
            for model in tables:
                cur.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _children_cpu() -> float:
    """CPU seconds of ended child processes (the importer reads large files in one)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def child(db: str, sizes: list[str], formats: list[str]) -> None:
    _setup()
    from yiwang.registry.importer import residents_import

    for size in sizes:
        files = _files(size, formats)
        for fmt in formats:
            _clear()
            load = os.getloadavg()[0]
            started, cpu, kids = time.perf_counter(), time.process_time(), _children_cpu()
            report = residents_import(actor=None, path=files[fmt], commit=True, batch_size=5000)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            kids = _children_cpu() - kids
            assert report.created == SIZES[size], (report.created, report.problems[:5])
            rate = report.total / seconds
            print(
                f"# {fmt} {size} {db}: {report.total} rows, {seconds:.1f}s wall, {cpu:.1f}s CPU "
                f"in this process ({report.total / cpu:.0f} rows per CPU-second) and {kids:.1f}s "
                f"in its reader process, load average {load:.1f} before and "
                f"{os.getloadavg()[0]:.1f} after, problems {len(report.problems)}",
                file=sys.stderr,
            )
            status = "ok" if rate >= TARGET else "short"
            print(
                f"BENCH import.{fmt}.{size}.{db} {rate:.0f} rows/s target >={TARGET} {status}",
                flush=True,
            )
    _clear()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100k,1.1M")
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes, formats = args.sizes.split(","), args.formats.split(",")
    if args.child:
        child(args.child, sizes, formats)
        return
    for db in args.db.split(","):
        env = dict(os.environ)
        if db == "sqlite":
            env.pop("DATABASE_URL", None)
            env["YIWANG_VAR"] = env.get("BENCH_SQLITE_VAR") or tempfile.mkdtemp(prefix="ywbench-")
        else:
            name = PG_URL.rsplit("/", 1)[1]
            subprocess.run(
                ["createdb", "-h", "127.0.0.1", "-U", "postgres", name],
                capture_output=True,
                check=False,
            )
            env["DATABASE_URL"] = PG_URL
        cmd = [sys.executable, __file__, "--child", db, "--sizes", args.sizes,
               "--formats", args.formats]  # fmt: skip
        subprocess.run(cmd, env=env, check=True)


if __name__ == "__main__":
    main()
