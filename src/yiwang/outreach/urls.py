from django.urls import path

from . import views

app_name = "outreach"

urlpatterns = [
    path("", views.campaign_index, name="index"),
    path("new/", views.campaign_new, name="new"),
    path("<int:campaign_id>/", views.campaign_detail, name="detail"),
    path("<int:campaign_id>/split/", views.campaign_split, name="split"),
    path("<int:campaign_id>/calls/", views.my_list, name="calls"),
    path("<int:campaign_id>/calls/<int:task_id>/", views.record, name="record"),
    path("<int:campaign_id>/export/", views.export, name="export"),
]
