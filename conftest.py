"""Project-wide test fixtures: synchronous task queue, plain HTTP, a clean cache, a browser page."""

import os
import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session", autouse=True)
def _huey_immediate():
    """Tasks run synchronously in tests, in memory, at the moment they are enqueued."""
    from huey.contrib.djhuey import HUEY

    previous = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = previous


@pytest.fixture(scope="session", autouse=True)
def _plain_http_session():
    """The live server builds its middleware once, at start; it must not redirect to HTTPS."""
    from django.conf import settings

    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    # The production hasher costs ~0.3 s a password: minutes over the suite, nothing to test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _test_http(settings):
    # Production defaults redirect to HTTPS; the test client and live_server speak plain HTTP.
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate limits live in the cache; one test's attempts must not throttle the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def _chromium():
    if not os.path.exists(CHROMIUM) and not shutil.which("chromium"):
        if os.environ.get("KVARTPLATA_REQUIRE_BROWSER") == "1":
            pytest.fail(
                f"Chromium is required (KVARTPLATA_REQUIRE_BROWSER=1) but {CHROMIUM} is missing"
            )
        pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs its own event loop; Django must not take that for async code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(_test_http, _chromium, live_server):
    """A fresh page (own cookies) at a phone-sized viewport; page.base_url is the live server."""
    context = _chromium.new_context(viewport={"width": 375, "height": 812}, locale="ru-RU")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.base_url = live_server.url
    yield page
    context.close()


@pytest.fixture
def screenshots(tmp_path):
    """Where browser tests save their screenshots: docs/screenshots/ (the README's pictures) only
    with KVARTPLATA_SCREENSHOTS=1, so that an ordinary test run leaves the tree clean."""
    from pathlib import Path

    if os.environ.get("KVARTPLATA_SCREENSHOTS") == "1":
        shots = Path(__file__).resolve().parent / "docs" / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        return shots
    return tmp_path
