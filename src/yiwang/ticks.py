"""Periodic work run by `yiwang worker` (deadline escalation, roll-ups, connector syncs).

Apps register their ticks in their AppConfig.ready(); the worker runs each when due. Ticks
must be safe to run in several workers at once (they lock or use idempotent updates)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass
class Tick:
    name: str
    every_seconds: float
    func: Callable[[], object]
    last_run: float = 0.0


_TICKS: dict[str, Tick] = {}


def register(name: str, every_seconds: float, func: Callable[[], object]) -> None:
    _TICKS[name] = Tick(name, every_seconds, func)


def registered() -> list[Tick]:
    return list(_TICKS.values())


def run_due(now: float | None = None) -> list[str]:
    """Runs every tick whose interval has passed; a failing tick is logged, never fatal."""
    now = time.monotonic() if now is None else now
    ran = []
    for tick in _TICKS.values():
        if now - tick.last_run >= tick.every_seconds:
            tick.last_run = now
            try:
                tick.func()
            except Exception:  # one broken tick must not stop the others
                log.exception("tick %s failed", tick.name)
            ran.append(tick.name)
    return ran
