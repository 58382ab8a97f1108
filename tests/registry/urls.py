"""The project's URLs plus the registry pages, until the lead wires them into yiwang.urls."""

from django.urls import include, path

from yiwang.urls import urlpatterns as project

urlpatterns = [path("registry/", include("yiwang.registry.urls")), *project]
