"""Each dashboard renders its map and charts in headless Chromium: the test saves a screenshot
and checks the chart canvases are not blank."""

import pytest

from tests.web import conftest as web

# The web app's browser fixtures, shared (pytest finds fixtures by module attribute).
artifacts, browser, chromium_path, session = (
    web.artifacts,
    web.browser,
    web.chromium_path,
    web.session,
)

pytestmark = [pytest.mark.browser]

# How many distinct colours a chart's canvas shows: a blank one has only its background.
CANVAS_COLOURS = """(sel) => Array.from(document.querySelectorAll(sel + ' canvas')).map((c) => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const seen = new Set();
  for (let i = 0; i < d.length; i += 4 * 7) seen.add(d[i] << 16 | d[i + 1] << 8 | d[i + 2]);
  return seen.size;
})"""
CHARTS = ["trend", "categories", "children", "departments", "places"]


@pytest.fixture
def brain_demo(transactional_db):
    """The demo (its cases included) with roll-ups and star ratings, committed for the live
    server. What migrations seed is seeded again first: the last test's flush emptied it."""
    from importlib import import_module

    from django.apps import apps

    from tests.cases.conftest import seed_categories
    from yiwang.demo import build_demo
    from yiwang.demo.brain import build_brain
    from yiwang.registry.models import Tag

    seed_categories()
    if not Tag.objects.exists():
        import_module("yiwang.registry.migrations.0002_seed_tags").seed(apps, None)
    demo = build_demo(scale="small")

    build_brain(months=2)
    return demo


def check_dashboard(session, artifacts, name):
    page = session.page
    page.wait_for_selector("#brain[data-loaded=true]", state="attached")
    page.wait_for_selector("#brain-map[data-loaded=true]", state="attached")
    assert int(page.get_attribute("#brain-map", "data-grid-count")) > 0
    assert page.locator("#brain-map path.leaflet-interactive").count() > 0
    for chart in CHARTS:
        page.wait_for_selector(f"#chart-{chart}[data-rendered=true]", state="attached")
    page.wait_for_timeout(300)  # let the last frame paint before the pixels are read
    page.screenshot(path=str(artifacts / f"brain-{name}.png"), full_page=True)
    for chart in ["trend", "categories", "children", "departments"]:
        colours = page.evaluate(CANVAS_COLOURS, f"#chart-{chart}")
        assert colours and max(colours) > 3, (name, chart, colours)
    assert int(page.text_content("[data-kpi=reported] .brain-kpi-value")) > 0
    assert not session.errors, session.errors
    assert not session.external_requests()


@pytest.mark.parametrize(
    "username, name",
    [("leader", "district"), ("jimolu", "street"), ("xingde", "community"), ("wangge", "grid")],
)
def test_dashboard_renders(brain_demo, session, artifacts, username, name):
    from yiwang.demo import DEMO_PASSWORD

    session.login(username, DEMO_PASSWORD)
    session.page.goto(session.url("/brain/"))
    assert f"/brain/{name}/" in session.page.url
    check_dashboard(session, artifacts, name)


def test_drill_down_and_large_screen(brain_demo, session, artifacts):
    from yiwang.demo import DEMO_PASSWORD

    session.login("leader", DEMO_PASSWORD)
    page = session.page
    page.goto(session.url("/brain/"))
    page.wait_for_selector("#brain-map[data-loaded=true]", state="attached")
    page.locator("#brain-map path.leaflet-interactive").first.click(force=True)
    page.wait_for_url("**/brain/street/**")
    check_dashboard(session, artifacts, "drill-street")
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(session.url("/brain/screen/"))
    check_dashboard(session, artifacts, "screen")
    page.goto(session.url("/brain/stars/"))
    assert page.locator("[data-testid=star-table] tbody tr").count() > 0
