"""Browser tests: one headless Chromium per module (the system's, never a downloaded one) and a fresh context
per test at a laptop's size; a JavaScript error on a page fails the test, and so does anything the
Content-Security-Policy refused (Chromium reports each refusal in the console)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.pages import CHROMIUM_ARGS, LAPTOP


class _LazyChromium:
    """One browser for the module, started by the first test that gets past the `chromium_path` check."""

    def __init__(self) -> None:
        self._playwright = None
        self._browser: Browser | None = None

    def get(self, executable_path: str) -> Browser:
        if self._browser is None:
            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=executable_path, args=CHROMIUM_ARGS, headless=True
            )
        return self._browser

    def close(self) -> None:
        if self._browser is not None:
            self._browser.close()
        if self._playwright is not None:
            self._playwright.stop()


@pytest.fixture(scope="module")
def _chromium():
    chromium = _LazyChromium()
    yield chromium
    chromium.close()


def is_csp_refusal(text: str) -> bool:
    """A console message of Chromium's saying the policy refused something ("Refused to load ... because it
    violates the following Content Security Policy directive", "Executing inline script violates ...")."""
    return "Content Security Policy" in text


@pytest.fixture
def csp_refusals() -> list[str]:
    """What the Content-Security-Policy refused during the test. None may be left at its end: a test that
    expects some (a third-party page) takes them out of this list itself."""
    return []


@pytest.fixture
def page(_chromium, chromium_path, live_server, csp_refusals) -> Page:
    """A fresh browser context per test (no cookies carried over), at a laptop's size."""
    context = _chromium.get(chromium_path).new_context(base_url=live_server.url, viewport=LAPTOP)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: is_csp_refusal(message.text) and csp_refusals.append(message.text))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    assert not csp_refusals, "The Content-Security-Policy refused:\n" + "\n".join(csp_refusals)
