from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "yiwang.search"
    label = "search"
    verbose_name = _("检索")

    def ready(self):
        from yiwang import ticks

        from .index import flush

        ticks.register("search.flush", 2, lambda: flush(limit=20_000))
