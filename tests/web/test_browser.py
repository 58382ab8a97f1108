"""The pages as a person uses them: headless Chromium through Playwright against the live
server, over the demo district. Every test also checks that the page asked nothing of any
host but this machine (government intranets have no internet)."""

from __future__ import annotations

import pytest

from yiwang.demo import DEMO_PASSWORD
from yiwang.org.models import Building, Grid, GridTeamMember, Role, RoleKind

pytestmark = pytest.mark.browser

ADDRESS = "伊春路168号紫云台小区3号楼"

# In the page: the grid whose centre is nearest the middle of the map, with the pixel of that
# centre in page coordinates (computed with the map's own projection).
NEAREST_GRID_JS = """() => {
  const map = window.yiwangMap;
  const box = document.getElementById("map").getBoundingClientRect();
  const size = map.getSize();
  let best = null;
  window.yiwang.grids.forEach((layer, id) => {
    const p = layer.feature.properties;
    const pt = map.latLngToContainerPoint([p.center_lat, p.center_lng]);
    const d = Math.hypot(pt.x - size.x / 2, pt.y - size.y / 2);
    if (best === null || d < best.d) best = {id, name: p.name, x: box.left + pt.x, y: box.top + pt.y, d};
  });
  return best;
}"""


def assert_clean(session):
    assert session.external_requests() == [], "requests left this machine"
    assert session.errors == [], "script errors on the page"


def test_login_page_renders_and_rejects_a_wrong_password(django_user_model, session):
    django_user_model.objects.create_user("leader", password=DEMO_PASSWORD)
    page = session.page
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(session.url("/login/"))
    assert page.locator("label[for=id_username]").inner_text() == "用户名"
    assert page.locator("label[for=id_password]").inner_text() == "密码"
    # Fits a 360 px phone: nothing sticks out sideways.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360

    page.fill("#id_username", "leader")
    page.fill("#id_password", "not-the-password")
    page.click("[data-testid=login-submit]")
    error = page.locator("[data-testid=login-error]")
    error.wait_for()
    assert "用户名或密码不正确" in error.inner_text()
    assert page.input_value("#id_username") == "leader"
    assert page.url.endswith("/login/")
    assert_clean(session)


def test_leader_clicks_a_grid_and_sees_its_team(demo, session, artifacts):
    session.login("leader", DEMO_PASSWORD)
    assert session.open_map() == Grid.objects.count() == 40
    page = session.page
    page.locator("#legend li[data-street-id]").first.wait_for()
    assert page.locator("#legend li[data-street-id]").count() == 6
    page.screenshot(path=str(artifacts / "map.png"))

    target = page.evaluate(NEAREST_GRID_JS)
    page.mouse.click(target["x"], target["y"])
    page.wait_for_selector("#grid-panel[data-state=ready]")

    grid = Grid.objects.get(id=target["id"])
    assert page.locator("#grid-panel-title").inner_text() == grid.name
    assert page.get_attribute("#grid-panel", "data-grid-id") == str(grid.id)
    facts = page.locator("[data-testid=grid-facts]").inner_text()
    assert grid.code in facts and grid.community.name in facts and grid.street.name in facts
    members = page.locator("#grid-panel [data-testid=team-member]")
    assert members.count() == GridTeamMember.objects.filter(grid=grid).count() >= 1
    first = GridTeamMember.objects.filter(grid=grid).order_by("role", "id").first()
    assert first.name in page.locator("#grid-panel").inner_text()
    page.screenshot(path=str(artifacts / "map-panel.png"))

    page.click("#grid-panel-close")
    assert page.locator("#grid-panel").is_hidden()
    assert_clean(session)


def test_a_link_with_a_grid_opens_the_map_on_that_grid(demo, session):
    """Cards link to /map/#grid=<id>: the map opens that grid's panel, and follows the hash."""
    first, second = Grid.objects.order_by("id")[:2]
    session.login("leader", DEMO_PASSWORD)
    page = session.page
    page.goto(session.url(f"/map/#grid={first.id}"))
    page.wait_for_selector(f"#grid-panel[data-grid-id='{first.id}'][data-state=ready]")
    assert page.locator("#grid-panel-title").inner_text() == first.name
    page.evaluate(f"() => {{ window.location.hash = 'grid={second.id}'; }}")
    page.wait_for_selector(f"#grid-panel[data-grid-id='{second.id}'][data-state=ready]")
    assert_clean(session)


def test_address_search_flies_to_the_building(demo, session, artifacts):
    session.login("leader", DEMO_PASSWORD)
    session.open_map()
    page = session.page
    building = Building.objects.select_related("grid").get(
        road="伊春路", number="168", compound="紫云台小区", building_no="3"
    )

    page.fill("#address-input", ADDRESS)
    page.click("#address-form button[type=submit]")
    page.wait_for_selector("[data-testid=address-marker]")
    result = page.locator("#address-result")
    assert building.grid.name in result.locator("[data-testid=result-grid]").inner_text()
    popup = page.locator("[data-testid=building-popup]")
    popup.wait_for()
    assert building.address in popup.inner_text()
    assert building.grid.name in popup.inner_text()
    page.screenshot(path=str(artifacts / "map-address.png"))

    # The road alone: candidate grids, highlighted, with the resolver's message.
    page.fill("#address-input", "伊春路")
    page.click("#address-form button[type=submit]")
    page.wait_for_selector("#address-result [data-testid=candidates] li")
    assert page.locator("[data-testid=address-marker]").count() == 0
    assert "伊春路" in result.locator("[data-testid=result-message]").inner_text()

    # Nothing found: a clear Chinese message.
    page.fill("#address-input", "火星路999号")
    page.click("#address-form button[type=submit]")
    page.wait_for_function(
        "() => document.querySelector('#address-result').dataset.kind === 'warn'"
    )
    assert result.inner_text().strip() != ""
    assert_clean(session)


def test_grid_worker_sees_only_their_grid(demo, session):
    own = Role.objects.get(user__username="wangge", kind=RoleKind.GRID_WORKER).grid
    other = Grid.objects.exclude(id=own.id).order_by("id").first()
    session.login("wangge", DEMO_PASSWORD)
    assert session.open_map() == 1
    page = session.page
    drawn = page.evaluate("() => Array.from(window.yiwang.grids.keys())")
    assert drawn == [own.id]
    # No admin link for a grid worker; their role is shown.
    assert page.locator("[data-nav=admin]").count() == 0
    assert own.name in page.locator("[data-testid=current-user]").inner_text()

    mine = page.request.get(session.url(f"/api/v1/org/grids/{own.id}"))
    assert mine.status == 200
    theirs = page.request.get(session.url(f"/api/v1/org/grids/{other.id}"))
    assert theirs.status == 404
    assert theirs.json()["code"] == "not_found"
    assert_clean(session)


def test_phone_layout_menu_and_bottom_sheet(demo, session):
    page = session.page
    page.set_viewport_size({"width": 360, "height": 740})
    session.login("admin", DEMO_PASSWORD)
    session.open_map()
    nav = page.locator("#topnav")
    assert nav.is_hidden()
    page.click("#menu-toggle")
    assert nav.is_visible()
    assert page.locator("[data-nav=admin]").is_visible()
    page.click("#menu-toggle")
    assert nav.is_hidden()

    target = page.evaluate(NEAREST_GRID_JS)
    page.mouse.click(target["x"], target["y"])
    page.wait_for_selector("#grid-panel[data-state=ready]")
    sheet = page.locator("#grid-panel").bounding_box()
    # A bottom sheet: full width, anchored to the bottom of the screen.
    assert sheet["width"] == 360
    assert abs(sheet["y"] + sheet["height"] - 740) <= 1
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    assert_clean(session)
