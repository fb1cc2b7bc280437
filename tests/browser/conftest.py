"""Browser fixtures: Debian's /usr/bin/chromium driven by Playwright (never a downloaded browser)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        message = "Debian chromium is not installed at /usr/bin/chromium (make system-deps installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)  # CI must not skip the browser tests silently
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=10_000)  # the page polls every 0.7 s; leave room on a busy 2-core machine

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 860}, locale="th-TH", timezone_id="Asia/Bangkok")
    yield page
    page.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    return Path(os.environ.get("SIM_SCREENSHOTS") or tmp_path)
