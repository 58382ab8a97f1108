"""The case pages in headless Chromium (Playwright) against the live server: a community desk
accepts a case from its queue and sees the timeline update in place; a resident reports a
problem by tapping the map. Reuses the browser fixtures of tests/web."""

from __future__ import annotations

import pytest

from tests.conftest import centre
from tests.web import conftest as web
from yiwang.cases.models import Case
from yiwang.cases.states import State

# The shell's browser fixtures, shared rather than copied.
chromium_path = web.chromium_path
browser = web.browser
session = web.session
artifacts = web.artifacts

pytestmark = [pytest.mark.browser, pytest.mark.urls("tests.cases.test_pages")]


def assert_clean(s):
    assert s.external_requests() == [], "requests left this machine"
    assert s.errors == [], "script errors on the page"


def login(s, username: str, password: str, next_path: str) -> None:
    page = s.page
    page.goto(s.url(f"/login/?next={next_path}"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(s.url(next_path))


def test_desk_accepts_a_case_and_the_timeline_updates(
    session, artifacts, report, community_a_staff
):
    case = report(title="小区门口乱堆乱放", description="门口堆放杂物多日,影响通行。")
    report(title="井盖缺失", i=1)
    login(session, "community_a", "pw", "/cases/")
    page = session.page
    rows = page.locator("[data-testid=case-row]")
    assert rows.count() == 2
    page.screenshot(path=str(artifacts / "case_queue.png"), full_page=True)

    page.click(f"[data-testid=case-row][data-case-id='{case.id}'] a")
    page.wait_for_url(session.url(f"/cases/{case.id}/"))
    assert page.locator("[data-testid=case-title]").inner_text() == case.title
    assert page.locator("[data-testid=case-state]").inner_text() == "已上报"
    page.wait_for_selector("#case-map .leaflet-interactive")
    assert page.locator("#timeline li, [data-testid=timeline] li").count() == 1

    page.click("[data-testid=action-accept]")
    page.fill("#id_accept-note", "已受理,安排人员处理")
    page.click("[data-testid=submit-accept]")
    page.wait_for_selector("#case[data-state=accepted]")
    # htmx swapped the case in place: same page, new state, the event on the timeline.
    assert page.url == session.url(f"/cases/{case.id}/")
    assert page.locator("[data-testid=notice]").inner_text() == "已完成“受理”"
    assert page.locator("[data-testid=case-state]").inner_text() == "已受理"
    last = page.locator("[data-testid=timeline] li").last
    assert last.get_attribute("data-action") == "accept"
    assert "已受理,安排人员处理" in last.inner_text()
    assert page.locator("[data-testid=action-start]").count() == 1
    page.wait_for_selector("#case-map .leaflet-interactive")
    case.refresh_from_db()
    assert case.state == State.ACCEPTED
    page.screenshot(path=str(artifacts / "case_detail.png"), full_page=True)
    assert_clean(session)


def test_resident_reports_by_tapping_the_map(session, artifacts, report, cat, tree):
    existing = report(title="楼下卫生死角")
    page = session.page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(session.url("/cases/new/"))
    page.wait_for_selector("#report-map[data-loaded=true]")
    page.select_option("#id_category", str(cat["SRHJ04"].id))
    page.fill("#id_title", "小区垃圾桶旁卫生死角")
    page.fill("#id_description", "垃圾桶周围长期脏乱。")

    lat, lng = centre(0)
    point = page.evaluate(
        """([lat, lng]) => {
          const map = window.yiwangReportMap;
          const box = document.getElementById("report-map").getBoundingClientRect();
          const p = map.latLngToContainerPoint([lat, lng]);
          return {x: box.left + p.x, y: box.top + p.y};
        }""",
        [lat + 0.0002, lng],
    )
    page.mouse.click(point["x"], point["y"])
    page.wait_for_selector("#report-map[data-picked=true]")
    assert page.input_value("#id_lat") != ""
    # "Is it this one?": the open case nearby of the same category.
    page.wait_for_selector("[data-testid=nearby-list]")
    assert existing.number in page.locator("[data-testid=nearby-list]").inner_text()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "case_report.png"), full_page=True)

    page.click("[data-testid=report-submit]")
    page.wait_for_url(session.url("/cases/new/done/"))
    case = Case.objects.exclude(id=existing.id).get()
    assert page.locator("[data-testid=reported-number]").inner_text() == case.number
    assert case.grid == tree.grid_a1 and case.reporter is None
    assert abs(case.lat - (lat + 0.0002)) < 0.0005 and abs(case.lng - lng) < 0.0005
    assert_clean(session)
