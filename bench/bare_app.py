"""A bare Django JSON endpoint: the yardstick for case intake over HTTP (DESIGN.md). One view,
no database, no middleware, served by gunicorn exactly like the product:

    gunicorn bare_app:application --chdir bench --workers 2
"""

from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-only",  # noqa: S106 (serves {"ok": true}, nothing else)
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        DATABASES={},
        USE_TZ=True,
    )

import django  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402

django.setup()


def ok(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("ok", ok)]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
