"""Browser tests: Playwright's Python package driving Debian's Chromium against live_server.

Playwright's own browser download cannot work here, so the launch points at the system
`chromium`. A failing test leaves a screenshot in tests/artifacts/.
"""

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM is still safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.conftest import PASSWORD  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not path:
        pytest.fail("Chromium is not installed: run scripts/ensure-chromium (make test does)")
    return path


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def page_errors():
    """Console errors and uncaught exceptions the page logged; tests assert it stays empty."""
    return []


def _new_page(browser, request, page_errors, **context_options):
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("pageerror", lambda exc: page_errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: (
            page_errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    return context, page


@pytest.fixture
def page(browser, request, page_errors, live_server):
    context, page = _new_page(
        browser, request, page_errors, viewport={"width": 1280, "height": 900}
    )
    yield page
    _screenshot_on_failure(request, page)
    context.close()


@pytest.fixture
def mobile_page(browser, request, page_errors, live_server):
    context, page = _new_page(
        browser, request, page_errors, viewport={"width": 360, "height": 740}, is_mobile=True
    )
    yield page
    _screenshot_on_failure(request, page)
    context.close()


def _screenshot_on_failure(request, page):
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)


def sign_up(page, live_server, username):
    """A new account through the sign-up form; ends on the dashboard."""
    page.goto(f"{live_server.url}/accounts/signup/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def log_in(page, live_server, username, password=PASSWORD):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
