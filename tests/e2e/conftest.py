"""Browser tests: Playwright driving Debian's Chromium against a live server.

Never `playwright install`: the browser is /usr/bin/chromium from the system packages. Without it,
the tests skip locally and fail in CI. Screenshots go to test-artifacts/ (git-ignored) on every
run and on failure.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import IN_CI

CHROMIUM = os.environ.get("DOORSTEP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}
SUZHOU = {"latitude": 31.2990, "longitude": 120.5850, "accuracy": 25}

# Allow Django's ORM calls from the test body while Playwright's sync API runs an event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        if IN_CI:
            pytest.fail(f"Chromium is required in CI but {CHROMIUM} is missing")
        pytest.skip("Chromium not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


class PageWatch:
    """Collects console errors and failed requests of a page."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("console", lambda msg: self.errors.append(f"console: {msg.text}") if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("requestfailed", lambda req: self.errors.append(f"failed: {req.url} {req.failure}"))
        page.on(
            "response",
            lambda resp: self.errors.append(f"http {resp.status}: {resp.url}") if resp.status >= 500 else None,
        )


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:120]


@pytest.fixture
def shoot(request):
    """shoot(page, name): save a screenshot under test-artifacts/screenshots/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{_slug(name)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def _context(browser, live_server, request, options, **extra):
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", timezone_id="Asia/Shanghai", **options, **extra
    )
    context.set_default_timeout(15_000)
    yield context
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for index, page in enumerate(context.pages):
            try:
                page.screenshot(path=str(ARTIFACTS / f"FAILED_{_slug(request.node.name)}_{index}.png"), full_page=True)
            except Exception:  # noqa: BLE001, S112 — a closed page has nothing to capture
                continue
    context.close()


@pytest.fixture
def phone(browser, live_server, request):
    yield from _context(browser, live_server, request, PHONE, geolocation=SUZHOU, permissions=["geolocation"])


@pytest.fixture
def desktop(browser, live_server, request):
    yield from _context(browser, live_server, request, DESKTOP)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def login(page, username: str, password: str = "doorstep-demo") -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def horizontal_overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
