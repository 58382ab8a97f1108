from django.urls import path

from . import views_import

urlpatterns = [
    path("import/", views_import.resident_import, name="resident_import"),
]
