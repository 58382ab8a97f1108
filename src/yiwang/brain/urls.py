from django.urls import path

from . import views

app_name = "brain"

urlpatterns = [
    path("", views.home, name="home"),
    path("screen/", views.screen, name="screen"),
    path("stars/", views.stars, name="stars"),
    path("rubric/", views.rubric, name="rubric"),
    path("<str:level>/<int:node_id>/", views.dashboard, name="dashboard"),
]
