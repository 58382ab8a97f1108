from django.urls import path

from . import views
from .urls_import import urlpatterns as import_urlpatterns

app_name = "registry"

urlpatterns = [
    path("", views.resident_list, name="resident_list"),
    path("export/", views.resident_export, name="resident_export"),
    path("access-log/", views.access_log, name="access_log"),
    path("residents/<int:resident_id>/", views.resident_card, name="resident_card"),
    path("residents/<int:resident_id>/reveal/", views.resident_reveal, name="resident_reveal"),
    path("residents/<int:resident_id>/archive/", views.resident_archive, name="resident_archive"),
]

urlpatterns += import_urlpatterns
