from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "yiwang.cases"
    label = "cases"
    verbose_name = _("事件办理")

    def ready(self):
        from yiwang import ticks

        from .deadlines import deadline_tick

        ticks.register("cases.deadlines", 60, deadline_tick)
