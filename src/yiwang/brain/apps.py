from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BrainConfig(AppConfig):
    name = "yiwang.brain"
    label = "brain"
    verbose_name = _("三脑")

    def ready(self):
        from yiwang import ticks
        from yiwang.cases.events import register_event_hook

        from .rollup import mark_dirty, rollup_tick

        # The hook writes in the case's own transaction, so a committed change is never
        # missing from the queue the tick drains.
        register_event_hook(mark_dirty)
        ticks.register("brain.rollup", 30, rollup_tick)
