"""Helpers for the browser tests: pages in fresh contexts that collect console errors, logging in,
the main navigation and screenshots."""

import re
from contextlib import contextmanager
from pathlib import Path

from tests.support import ROOT, scaled

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


class Console:
    """Collects console errors and uncaught page errors of one page."""

    def __init__(self, page, expected_statuses: set[int]):
        self.errors: list[str] = []
        self.expected_statuses = expected_statuses
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def unexpected(self) -> list[str]:
        def provoked(text: str) -> bool:
            match = re.search(r"the server responded with a status of (\d+)", text)
            return bool(match) and int(match.group(1)) in self.expected_statuses

        return [text for text in self.errors if not provoked(text)]


class Browser:
    """Opens pages in fresh browser contexts (separate cookie jars) against the live server."""

    def __init__(self, chromium, base_url: str):
        self.chromium = chromium
        self.base_url = base_url
        self.contexts: list = []
        self.consoles: list[Console] = []
        self.expected_statuses: set[int] = set()

    def new_page(self, viewport: dict = LAPTOP, **context_options):
        """A page in a fresh context; `context_options` go to Playwright (timezone_id, locale, ...)."""
        context = self.chromium.new_context(base_url=self.base_url, viewport=viewport, **context_options)
        context.set_default_timeout(scaled(15) * 1000)
        self.contexts.append(context)
        page = context.new_page()
        self.consoles.append(Console(page, self.expected_statuses))
        return page

    def expect_http_error(self, status: int) -> None:
        """Chromium logs every 4xx response as a console error; allow the ones a test provokes."""
        self.expected_statuses.add(status)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@contextmanager
def checked_browser(chromium, base_url: str):
    """A Browser on base_url; on leaving, closes it and fails if any page logged a JavaScript error."""
    opened = Browser(chromium, base_url)
    yield opened
    errors = [error for console in opened.consoles for error in console.unexpected()]
    opened.close()
    assert not errors, f"JavaScript console errors: {errors}"


def screenshot(page, name: str, viewports=(LAPTOP, PHONE)) -> None:
    """Full-page screenshots of what the test checks, at laptop and phone sizes."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    for viewport in viewports:
        page.set_viewport_size(viewport)
        label = "phone" if viewport["width"] < 600 else "laptop"
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(original)


def log_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))


def csrf_token(page) -> str:
    return page.locator('meta[name="csrf-token"]').get_attribute("content")


def open_section(page, name: str) -> None:
    """Follow a link of the main navigation."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()
