"""`yiwang brain rebuild` recounts the roll-ups of cases inserted without events."""

from argparse import Namespace

from yiwang.brain.commands import cmd_brain
from yiwang.brain.models import DailyFigure, DirtyKey


def test_rebuild_counts_cases_without_events(tree, report, capsys):
    report()
    report(i=1)
    DirtyKey.objects.all().delete()  # as a bulk load leaves them: no events, nothing marked
    assert cmd_brain(Namespace(brain_command="rebuild")) == 0
    assert sum(DailyFigure.objects.values_list("reported", flat=True)) == 2
    assert "已重算" in capsys.readouterr().out
