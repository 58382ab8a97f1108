"""`yiwang worker`: ticks run when due, a failing tick does not stop the others, and one pass
of the task queue runs."""

from yiwang import ticks
from yiwang.cli import main


def test_ticks_run_when_due_and_survive_failures(db):
    seen = []

    def boom():
        raise RuntimeError("broken tick")

    ticks.register("test.boom", 60, boom)
    ticks.register("test.ok", 60, lambda: seen.append(1))
    try:
        ran = ticks.run_due(now=1_000_000.0)
        assert {"test.boom", "test.ok"} <= set(ran)
        assert seen == [1]
        assert "test.ok" not in ticks.run_due(now=1_000_010.0)  # not due again yet
        assert "test.ok" in ticks.run_due(now=1_000_061.0)
    finally:
        ticks._TICKS.pop("test.boom")
        ticks._TICKS.pop("test.ok")


def test_worker_once(transactional_db, capsys):
    assert main(["worker", "--once"]) == 0
    assert "worker" in capsys.readouterr().out
