"""The provider's phone page in headless Chromium (Playwright) against the live server, at a
cheap phone's size: the offer card, one tap on 接单, the schedule with the phone number.
Reuses the browser fixtures of tests/web."""

from __future__ import annotations

import pytest

from tests.web import conftest as web
from yiwang.matching import services as s
from yiwang.matching.models import Demand

chromium_path = web.chromium_path
browser = web.browser
artifacts = web.artifacts

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(browser, live_server):
    """A touch phone of 360×740 CSS pixels, in Chinese, against the live server."""
    context = browser.new_context(
        locale="zh-CN",
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        base_url=live_server.url,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    session = web.Session(page=page, base_url=live_server.url)
    page.on("request", lambda request: session.requests.append(request.url))
    page.on("pageerror", lambda error: session.errors.append(str(error)))
    try:
        yield session
    finally:
        context.close()


def test_provider_taps_accept_on_a_phone(phone, artifacts, post, worker_a, make_provider):
    session = phone
    provider = make_provider("张师傅", user=True)
    demand = post()
    s.demand_offer(actor=worker_a, demand=demand, providers=[provider])

    page = session.page
    page.goto(session.url("/login/?next=/matching/me/"))
    page.fill("#id_username", provider.user.username)
    page.fill("#id_password", "pw")
    page.click("[data-testid=login-submit]")
    page.wait_for_url(session.url("/matching/me/"))

    card = page.locator("[data-testid=offer-card]")
    assert card.count() == 1
    assert "王**" in card.inner_text()
    accept = card.locator("[data-testid=accept]")
    box = accept.bounding_box()
    assert box["height"] >= 44  # a thumb-sized target
    # One column: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(artifacts / "matching_offer_phone.png"), full_page=True)

    accept.tap()
    page.wait_for_selector("[data-testid=schedule-card]")
    assert page.locator("[data-testid=offer-card]").count() == 0
    assert page.locator("[data-testid=messages]").inner_text().startswith("已接单")
    assert page.get_attribute("[data-testid=tel]", "href") == "tel:13800138000"
    page.screenshot(path=str(artifacts / "matching_schedule_phone.png"), full_page=True)

    demand.refresh_from_db()
    assert demand.status == Demand.Status.MATCHED
    assert demand.provider_id == provider.id
    assert session.external_requests() == []
    assert session.errors == []
