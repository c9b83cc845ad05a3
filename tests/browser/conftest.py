"""Playwright fixtures driving Debian's Chromium (never a downloaded browser) against `live_server`.

Every page a test opens fails the test on a JavaScript console error or uncaught exception;
`Browser.expect_http_error(status)` allows the console line Chromium logs for a response a test
provokes on purpose (a 403 for a member, say). Screenshots go to test-output/screenshots/."""

import os

import pytest

from tests.browser.helpers import CHROMIUM, CHROMIUM_ARGS, checked_browser
from tests.support import TIME_FACTOR, Lane, scaled


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"REQUIRE_BROWSER is set (CI) but Chromium is not installed at {CHROMIUM}")
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium); CI installs it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")
    sync_api.expect.set_options(timeout=scaled(15) * 1000)  # every expect() waits on the page, within a bound
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser(chromium, live_server):
    """Fresh contexts per test; the test fails if any page logged a JavaScript error."""
    from webapp.api import rate_limit
    from webapp.services import password_guard

    rate_limit.reset()  # every page comes from 127.0.0.1: other tests' logins must not use up its login limit
    password_guard.reset()
    with checked_browser(chromium, live_server) as opened:
        yield opened


@pytest.fixture(scope="module")
def realtime_lane(backend):
    """The app served with a worker of its own whose simulated calls run in real time (scaled by
    TEST_TIME_FACTOR): a call stays live until the test ends it."""
    lane = Lane(backend, time_scale=1 / TIME_FACTOR, serve=True)
    yield lane
    lane.close()


@pytest.fixture
def realtime_browser(chromium, realtime_lane):
    """Like `browser`, against the real-time lane."""
    from webapp.api import rate_limit
    from webapp.services import password_guard

    with realtime_lane.app.app_context():
        rate_limit.reset()
        password_guard.reset()
    with checked_browser(chromium, realtime_lane.url) as opened:
        yield opened
