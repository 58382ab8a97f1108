from django.urls import path

from . import views, views_elements
from .urls_import import urlpatterns as import_urlpatterns

app_name = "registry"

urlpatterns = [
    path("", views.resident_list, name="resident_list"),
    path("export/", views.resident_export, name="resident_export"),
    path("access-log/", views.access_log, name="access_log"),
    path("residents/new/", views.resident_new, name="resident_new"),
    path("residents/<int:resident_id>/", views.resident_card, name="resident_card"),
    path("residents/<int:resident_id>/edit/", views.resident_edit, name="resident_edit"),
    path("residents/<int:resident_id>/reveal/", views.resident_reveal, name="resident_reveal"),
    path("residents/<int:resident_id>/archive/", views.resident_archive, name="resident_archive"),
]

# Households, houses, places and organisations: the same five pages each, at the API's
# segments (/registry/households/ …), named household_list, household_detail, … .
for kind in views_elements.KINDS.values():
    k, n = {"kind": kind.key}, kind.name
    urlpatterns += [
        path(f"{kind.key}/", views_elements.element_list, k, name=f"{n}_list"),
        path(f"{kind.key}/new/", views_elements.element_new, k, name=f"{n}_new"),
        path(f"{kind.key}/<int:element_id>/", views_elements.element_detail, k, name=f"{n}_detail"),
        path(
            f"{kind.key}/<int:element_id>/edit/", views_elements.element_edit, k, name=f"{n}_edit"
        ),
        path(
            f"{kind.key}/<int:element_id>/archive/",
            views_elements.element_archive,
            k,
            name=f"{n}_archive",
        ),
    ]

urlpatterns += [
    path(
        "households/<int:element_id>/set-head/",
        views_elements.household_set_head,
        name="household_set_head",
    ),
    path(
        "households/<int:element_id>/members/",
        views_elements.household_add_member,
        name="household_add_member",
    ),
    path(
        "households/<int:element_id>/members/<int:resident_id>/remove/",
        views_elements.household_remove_member,
        name="household_remove_member",
    ),
    path(
        "buildings/<int:building_id>/",
        views_elements.building_detail,
        name="building_detail",
    ),
]

urlpatterns += import_urlpatterns
