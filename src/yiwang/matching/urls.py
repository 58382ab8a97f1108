from django.urls import path

from . import views, views_calls, views_providers

app_name = "matching"

urlpatterns = [
    path("", views.demand_list, name="demands"),
    path("demands/new/", views.demand_new, name="demand_new"),
    path("demands/<int:demand_id>/", views.demand_detail, name="demand_detail"),
    path("demands/<int:demand_id>/offer/", views.demand_offer, name="demand_offer"),
    path("demands/<int:demand_id>/complete/", views.demand_complete, name="demand_complete"),
    path("demands/<int:demand_id>/rate/", views.demand_rate, name="demand_rate"),
    path("demands/<int:demand_id>/cancel/", views.demand_cancel, name="demand_cancel"),
    path("me/", views.me, name="me"),
    path("me/offers/<int:offer_id>/accept/", views.offer_accept, name="offer_accept"),
    path("me/offers/<int:offer_id>/decline/", views.offer_decline, name="offer_decline"),
    path("me/demands/<int:demand_id>/complete/", views.me_complete, name="me_complete"),
    path("me/providers/<int:provider_id>/slots/", views.me_slots, name="me_slots"),
    path("providers/", views_providers.provider_list, name="providers"),
    path("providers/new/", views_providers.provider_new, name="provider_new"),
    path("providers/<int:provider_id>/", views_providers.provider_detail, name="provider_detail"),
    path(
        "providers/<int:provider_id>/verify/",
        views_providers.provider_verify,
        name="provider_verify",
    ),
    path(
        "providers/<int:provider_id>/slots/", views_providers.provider_slots, name="provider_slots"
    ),
    path(
        "providers/<int:provider_id>/absence/",
        views_providers.provider_absence,
        name="provider_absence",
    ),
    path("calls/", views_calls.call_list, name="calls"),
    path("calls/new/", views_calls.call_new, name="call_new"),
    path("calls/<int:call_id>/", views_calls.call_detail, name="call_detail"),
    path("calls/<int:call_id>/publish/", views_calls.call_publish, name="call_publish"),
    path("calls/<int:call_id>/cancel/", views_calls.call_cancel, name="call_cancel"),
    path("calls/<int:call_id>/apply/", views_calls.call_apply, name="call_apply"),
    path("calls/<int:call_id>/choose/", views_calls.call_choose, name="call_choose"),
    path(
        "calls/<int:call_id>/milestones/<int:milestone_id>/submit/",
        views_calls.milestone_submit,
        name="milestone_submit",
    ),
    path(
        "calls/<int:call_id>/milestones/<int:milestone_id>/accept/",
        views_calls.milestone_accept,
        name="milestone_accept",
    ),
    path(
        "calls/<int:call_id>/applications/<int:application_id>/evaluate/",
        views_calls.call_evaluate,
        name="call_evaluate",
    ),
    path("records/", views_calls.records, name="records"),
]
