from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MatchingConfig(AppConfig):
    name = "yiwang.matching"
    label = "matching"
    verbose_name = _("资源与需求")

    def ready(self):
        from yiwang import ticks
        from yiwang.cases.events import register_event_hook
        from yiwang.outreach.services import register_call_hook
        from yiwang.registry.cards import register_card_section

        from .selectors import resident_card_section
        from .services import offers_expire, record_call, record_case_event

        # Both hooks write in the caller's transaction: a closed case or a finished call is
        # never missing from the service records.
        register_event_hook(record_case_event)
        register_call_hook(record_call)
        ticks.register("matching.offers", 60, offers_expire)
        register_card_section(resident_card_section)
