"""The page shell through Django's test client (no browser): login, redirects, navigation by
role, the language switch, and that pages load nothing from outside this server."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from tests.conftest import login

pytestmark = pytest.mark.django_db


def nav_keys(response) -> list[str]:
    return [item["key"] for item in response.context["nav_items"]]


def test_anonymous_map_redirects_to_login(client):
    response = client.get("/map/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/map/"


def test_anonymous_home_redirects_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:login")


def test_login_page_is_chinese_and_has_no_navigation(client):
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "用户名" in html and "密码" in html and "登录" in html
    # Visitors see only what is public: reporting a problem and the reply wall.
    assert nav_keys(response) == ["report", "wall", "calls"]


def test_wrong_password_shows_an_error_and_keeps_the_username(client, worker_a):
    response = client.post("/login/", {"username": "worker_a", "password": "wrong"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="login-error"' in html
    assert "用户名或密码不正确" in html
    assert 'value="worker_a"' in html


def test_right_password_logs_in_and_goes_to_the_map(client, worker_a):
    response = client.post("/login/", {"username": "worker_a", "password": "pw-worker_a"})
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    assert client.get("/").headers["Location"] == reverse("web:map")


def test_grid_worker_navigation(client, tree, worker_a):
    response = login(client, worker_a).get("/map/")
    assert response.status_code == 200
    assert nav_keys(response) == [
        "map",
        "brain",
        "queue",
        "registry",
        "search",
        "outreach",
        "demands",
        "report",
        "mine",
        "wall",
        "calls",
        "api",
    ]
    assert [i["active"] for i in response.context["nav_items"]] == [True] + [False] * 11
    html = response.content.decode()
    assert reverse("admin:index") not in html
    assert f"网格员 · {tree.grid_a1}" in html


def test_superuser_navigation(client, admin_user):
    response = login(client, admin_user).get("/map/")
    assert nav_keys(response) == [
        "map", "brain", "queue", "registry", "search", "outreach", "demands", "report", "mine",
        "wall", "calls", "wall_review", "access_log", "admin", "api",
    ]  # fmt: skip
    html = response.content.decode()
    assert f'href="{reverse("admin:index")}"' in html
    assert "系统管理员" in html


def test_leader_without_staff_flag_gets_no_admin_link(client, leader):
    response = login(client, leader).get("/map/")
    assert nav_keys(response) == [
        "map",
        "brain",
        "queue",
        "registry",
        "search",
        "outreach",
        "demands",
        "report",
        "mine",
        "wall",
        "calls",
        "wall_review",
        "api",
    ]
    assert "区级领导 · 市北区" in response.content.decode()


def test_outsider_gets_the_map_page_but_the_api_gives_no_grids(client, outsider):
    login(client, outsider)
    assert client.get("/").headers["Location"] == reverse("cases:mine")  # a resident's home
    assert client.get("/map/").status_code == 200
    assert client.get("/api/v1/org/grids.geojson").json()["features"] == []


def test_map_page_config_points_at_the_api_and_has_no_basemap_by_default(client, worker_a):
    response = login(client, worker_a).get("/map/")
    html = response.content.decode()
    config = json.loads(re.search(r'id="map-config"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert config["tileUrl"] == ""
    assert config["gridsUrl"] == "/api/v1/org/grids.geojson"
    assert config["gridUrl"] == "/api/v1/org/grids/{id}"
    assert config["resolveUrl"] == "/api/v1/geo/resolve"
    assert config["strings"]["not_found"]


def test_map_page_takes_the_tile_url_from_settings(client, worker_a, settings):
    settings.YIWANG_TILE_URL = "http://127.0.0.1:8080/tiles/{z}/{x}/{y}.png"
    html = login(client, worker_a).get("/map/").content.decode()
    assert "http://127.0.0.1:8080/tiles/{z}/{x}/{y}.png" in html


def test_pages_load_assets_from_this_server_only(client, worker_a):
    for path in ("/login/", "/map/"):
        if path == "/map/":
            login(client, worker_a)
        html = client.get(path).content.decode()
        sources = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]+)"', html)
        assert sources, path
        assert all(s.startswith("/static/") for s in sources), sources


def test_grid_workers_cannot_read_another_grid(client, tree, worker_a):
    login(client, worker_a)
    assert client.get(f"/api/v1/org/grids/{tree.grid_a1.id}").status_code == 200
    response = client.get(f"/api/v1/org/grids/{tree.grid_b1.id}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_logout_is_a_post_and_returns_to_login(client, worker_a):
    login(client, worker_a)
    assert 'data-testid="logout"' in client.get("/map/").content.decode()
    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:login")
    assert client.get("/map/").status_code == 302


def test_language_switch_to_english(client, worker_a):
    login(client, worker_a)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/map/"})
    assert response.status_code == 302
    assert response["Location"] == "/map/"
    html = client.get("/map/").content.decode()
    assert '<html lang="en">' in html
    assert 'value="en" lang="en" aria-pressed="true"' in html
