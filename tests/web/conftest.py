"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live
server, a demo district built per test, and a recorder of every request a page makes."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path(os.environ.get("YIWANG_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
VENDOR = Path(__file__).resolve().parents[2] / "src" / "yiwang" / "web" / "static" / "vendor"


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium. Install it with "
            "`apt-get update && apt-get install -y chromium` (the Makefile's setup does this).",
            pytrace=False,
        )
    if not (VENDOR / "leaflet" / "leaflet.js").exists():
        pytest.fail(
            f"{VENDOR} has no Leaflet: run `npm ci --no-audit --no-fund && "
            ".venv/bin/python scripts/vendor.py` (the Makefile's setup does this).",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium_path):
    """One Chromium per test module. Playwright's sync API keeps an asyncio loop in this thread
    while it runs, and Django's ORM refuses to run beside a loop; so for exactly that window
    (this module's tests, their demo builds and their flushes) the ORM is told it may."""
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as mp, sync_playwright() as playwright:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def demo(transactional_db):
    """The demo district (40 grids, ~400 buildings, the demo logins), committed so that the
    live server's thread sees it; transactional_db empties the tables afterwards."""
    from yiwang.demo import build_demo

    return build_demo(scale="small")


def is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    host = (parts.hostname or "").strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Session:
    """A browser page logged in (or not) against the live server, with what it requested and
    what went wrong in its scripts."""

    page: object
    base_url: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path

    def login(self, username: str, password: str) -> None:
        page = self.page
        page.goto(self.url("/login/"))
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("[data-testid=login-submit]")
        page.wait_for_url(self.url("/map/"))

    def open_map(self) -> int:
        """Open the map, wait for the grid layer, return how many grids it drew."""
        self.page.goto(self.url("/map/"))
        self.page.wait_for_selector("#map[data-loaded=true]", state="attached")
        return int(self.page.get_attribute("#map", "data-grid-count"))

    def external_requests(self) -> list[str]:
        return [u for u in self.requests if not is_loopback(u)]


@pytest.fixture
def session(browser, live_server) -> Iterator[Session]:
    """A fresh browser context (own cookies) in Chinese, desktop-sized."""
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 800}, base_url=live_server.url
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    s = Session(page=page, base_url=live_server.url)
    page.on("request", lambda request: s.requests.append(request.url))
    page.on("pageerror", lambda error: s.errors.append(str(error)))
    try:
        yield s
    finally:
        context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
