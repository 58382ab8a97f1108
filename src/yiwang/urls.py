from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path, re_path
from django.views.static import serve

from yiwang.cases.urls import wall_patterns

from .api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("open311/v2/", include("yiwang.intake.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("registry/", include("yiwang.registry.urls")),
    path("search/", include("yiwang.search.urls")),
    path("outreach/", include("yiwang.outreach.urls")),
    path("cases/", include("yiwang.cases.urls")),
    path("wall/", include(wall_patterns)),
    # Uploaded photos, for signed-in users; a district install may serve them from its web
    # server or object storage instead.
    re_path(
        r"^media/(?P<path>.*)$",
        login_required(serve),
        {"document_root": settings.MEDIA_ROOT},
    ),
    path("brain/", include("yiwang.brain.urls")),
    path("matching/", include("yiwang.matching.urls")),
    path("", include("yiwang.web.urls")),
]
