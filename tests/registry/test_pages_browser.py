"""The registry desk in headless Chromium (Playwright) against the live server: a grid worker
opens 场所 from the tab bar, registers a shop, sees a bad phone number named next to its field,
corrects it, and lands on the new place's page. Reuses the browser fixtures of tests/web."""

from __future__ import annotations

import pytest

from tests.web import conftest as web
from yiwang.registry.models import Place

chromium_path = web.chromium_path
browser = web.browser
artifacts = web.artifacts
session = web.session

pytestmark = pytest.mark.browser


def test_worker_registers_a_place(session, artifacts, worker_a, tree):
    session.login("worker_a", "pw-worker_a")
    page = session.page
    page.goto(session.url("/registry/"))
    page.click("[data-testid=registry-tabs] >> text=场所")
    page.wait_for_url(session.url("/registry/places/"))
    page.click("[data-testid=element-new]")
    page.wait_for_url(session.url("/registry/places/new/"))

    page.select_option("#id_kind", "shop")
    page.fill("#id_name", "铁山路便民超市")
    page.select_option("#id_building_id", label="铁山路22号")
    page.fill("#id_contact_phone", "12ab")
    page.click("[data-testid=element-form] button[type=submit]")
    error = page.locator(".field-error[data-field=contact_phone]")
    assert error.count() == 1 and "非数字" in error.inner_text()
    assert page.input_value("#id_name") == "铁山路便民超市"  # what was typed is kept
    assert not Place.objects.filter(name="铁山路便民超市").exists()
    page.screenshot(path=str(artifacts / "registry_place_error.png"), full_page=True)

    page.fill("#id_contact_phone", "13700137000")
    page.click("[data-testid=element-form] button[type=submit]")
    page.wait_for_selector("[data-testid=element-facts]")
    place = Place.objects.get(name="铁山路便民超市")
    assert page.url == session.url(f"/registry/places/{place.id}/")
    assert page.locator("[data-testid=contact-phone]").inner_text() == "137****7000"
    assert page.locator("[data-testid=map-link]").count() == 1
    assert place.grid_id == tree.grid_a1.id
    page.screenshot(path=str(artifacts / "registry_place_detail.png"), full_page=True)
    assert session.external_requests() == []
    assert session.errors == []
