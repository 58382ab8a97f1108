from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "yiwang.intake"
    label = "intake"
    verbose_name = _("受理渠道")

    def ready(self):
        from yiwang import ticks
        from yiwang.cases.services import register_reply_hook

        from .hotline import outbox_tick, queue_reply

        register_reply_hook(queue_reply)
        ticks.register("intake.outbox", 10, outbox_tick)
