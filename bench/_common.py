"""Shared by the benchmarks: Django set-up against a chosen database, the BENCH line format,
and the Shibei-scale demo built on first use."""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))


def setup(var_dir: str | None = None) -> None:
    """Uses YIWANG_VAR (default var/bench-shibei) so benchmark data never mixes with the demo."""
    os.environ.setdefault("YIWANG_VAR", var_dir or str(ROOT / "var" / "bench-shibei"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    import django

    django.setup()


def ensure_shibei() -> None:
    from django.core.management import call_command

    from yiwang.org.models import District

    call_command("migrate", verbosity=0, interactive=False)
    if not District.objects.exists():
        print("building the Shibei-scale district (once) …", file=sys.stderr)
        from yiwang.demo import build_demo

        build_demo(scale="shibei")


def bench_line(name: str, value: float, unit: str, op: str, target: float) -> str:
    ok = value >= target if op == ">=" else value <= target
    text = f"{value:.1f}" if value < 1000 else f"{value:.0f}"
    line = f"BENCH {name} {text} {unit} target {op}{target:g} {'ok' if ok else 'short'}"
    print(line, flush=True)
    return line


def percentile(samples: list[float], p: float) -> float:
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[int(p) - 1]


def backend_name() -> str:
    from django.db import connection

    return "postgresql" if connection.vendor == "postgresql" else "sqlite"
