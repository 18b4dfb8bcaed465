"""Browser tests: one headless Chromium per module (the system's, never a downloaded one) and a fresh context
per test at a laptop's size; a JavaScript error on a page fails the test."""

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


@pytest.fixture
def page(_chromium, chromium_path, live_server) -> Page:
    """A fresh browser context per test (no cookies carried over), at a laptop's size."""
    context = _chromium.get(chromium_path).new_context(base_url=live_server.url, viewport=LAPTOP)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
