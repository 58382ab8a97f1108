from django.urls import path

from . import views_import

urlpatterns = [
    path("import/", views_import.resident_import, name="resident_import"),
    path("import/<int:job_id>/", views_import.resident_import_job, name="resident_import_job"),
    path(
        "import/<int:job_id>/progress",
        views_import.resident_import_progress,
        name="resident_import_progress",
    ),
    path(
        "import/<int:job_id>/cancel",
        views_import.resident_import_cancel,
        name="resident_import_cancel",
    ),
]
