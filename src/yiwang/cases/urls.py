"""Case pages. Mounted at `cases/` (namespace "cases"); the public reply wall's patterns are
`wall_patterns`, mounted at `wall/` (namespace "wall")."""

from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("new/", views.report_new, name="new"),
    path("new/nearby/", views.report_nearby, name="nearby"),
    path("<int:case_id>/follow/", views.follow, name="follow"),
    path("new/done/", views.report_done, name="reported"),
    path("mine/", views.mine, name="mine"),
    path("mine/<int:case_id>/rate/", views.rate, name="rate"),
    path("wall/review/", views.wall_review_list, name="wall_review"),
    path("wall/review/<int:post_id>/", views.wall_review_post, name="wall_review_post"),
    path("<int:case_id>/", views.detail, name="detail"),
    path("<int:case_id>/actions/<str:action>/", views.act, name="act"),
    path("<int:case_id>/wall/", views.wall_propose, name="wall_propose"),
]

# The public 回音壁: `path("wall/", include(wall_patterns))` in the project's urls.py.
wall_patterns = (
    [path("", views.wall_page, name="list")],
    "wall",
)
