"""Browser tests: Playwright driving Debian's Chromium against a live server.

Never `playwright install`: the browser is /usr/bin/chromium from the system packages. Without it,
the tests skip locally and fail in CI. Screenshots go to test-artifacts/ (git-ignored) on every
run and on failure.
"""

import datetime as dt
import io
import os
import re
import shutil
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread
from PIL import Image

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


# On in-memory SQLite the live server's request threads all share the test's one connection (Django
# passes it to them so they see the test's data). Chromium loads a page's script, manifest and
# service worker in parallel, and two requests interleaving on one connection corrupt each other's
# transactions (a random 400 "session interrupted" or 500). One request at a time, body included.
SHARED_DB_LOCK = threading.RLock()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    # Seeding a test's data must not interleave with a request the browser of the previous test
    # left in flight; the lock waits for it. (So a fixture must not drive the browser: do that in the test.)
    with SHARED_DB_LOCK:
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    # Closing the contexts and flushing the database wait for any request still being served.
    with SHARED_DB_LOCK:
        yield


class _OneRequestAtATimeServer(ThreadedWSGIServer):
    def set_app(self, application):
        if self.connections_override:
            inner = application

            def application(environ, start_response):
                with SHARED_DB_LOCK:
                    result = inner(environ, start_response)
                    try:
                        body = list(result)
                    finally:
                        if hasattr(result, "close"):
                            result.close()
                return body

        super().set_app(application)


class _LiveServerThread(LiveServerThread):
    server_class = _OneRequestAtATimeServer


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, serving one request at a time when the database is in-memory SQLite."""
    from pytest_django.live_server_helper import LiveServer

    addr = request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    server = LiveServer(addr, start=False)
    plain = server.thread
    server.thread = _LiveServerThread(
        plain.host,
        static_handler=plain.static_handler,
        connections_override=plain.connections_override,
        port=plain.port,
    )
    server.thread.daemon = True
    server.start()
    yield server
    server.stop()


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
    """Collects console errors, page errors, failed requests, 5xx responses and dialogs of a page.

    ``errors`` is everything that went wrong; ``dialogs`` every alert/confirm/prompt that opened unasked
    (each is dismissed so the page goes on). ``accept_next_dialog()`` before a click that asks for a
    confirmation accepts it instead. ``clear()`` starts a new page's record in the same tab.
    """

    def __init__(self, page):
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self._accept = 0
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("requestfailed", self._failed)
        page.on(
            "response",
            lambda resp: self.errors.append(f"http {resp.status}: {resp.url}") if resp.status >= 500 else None,
        )
        page.on("dialog", self._dialog)

    def _console(self, msg) -> None:
        if msg.type == "error":
            where = (msg.location or {}).get("url", "")
            self.errors.append(f"console: {msg.text}" + (f" ({where})" if where else ""))

    def _failed(self, request) -> None:
        # A request the browser itself dropped because the page moved on (a manifest or a prefetch cut
        # short by the next navigation) is not a fault; a blocked one also logs a console error.
        if request.failure == "net::ERR_ABORTED":
            return
        self.errors.append(f"failed: {request.url} {request.failure}")

    def _dialog(self, dialog) -> None:
        if self._accept:
            self._accept -= 1
            dialog.accept()
            return
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def accept_next_dialog(self) -> None:
        self._accept += 1

    def clear(self) -> None:
        self.errors.clear()
        self.dialogs.clear()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:120]


@pytest.fixture
def shoot(request):
    """shoot(page, name): save a screenshot under test-artifacts/screenshots/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{_slug(name)}.png"
        # CSS-pixel scale: a phone's 2x device pixels would double the time and the size for no new finding.
        page.screenshot(path=str(path), full_page=True, scale="css", animations="disabled")
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
        number = getattr(request.node, "_e2e_contexts", 0)
        request.node._e2e_contexts = number + 1
        for index, page in enumerate(context.pages):
            try:
                name = f"FAILED_{_slug(request.node.name)}_{number}_{index}.png"
                page.screenshot(path=str(ARTIFACTS / name), full_page=True)
            except Exception:  # noqa: BLE001, S112 — a closed page has nothing to capture
                continue
    context.close()


@pytest.fixture
def phone(browser, live_server, request):
    yield from _context(browser, live_server, request, PHONE, geolocation=SUZHOU, permissions=["geolocation"])


@pytest.fixture
def desktop(browser, live_server, request):
    yield from _context(browser, live_server, request, DESKTOP)


@pytest.fixture
def new_context(browser, live_server, request):
    """new_context(on_phone=False): one more browser context (its own cookies: one signed-in person each)."""
    opened = []

    def make(on_phone: bool = False):
        extra = {"geolocation": SUZHOU, "permissions": ["geolocation"]} if on_phone else {}
        generator = _context(browser, live_server, request, PHONE if on_phone else DESKTOP, **extra)
        opened.append(generator)
        return next(generator)

    yield make
    for generator in opened:
        next(generator, None)


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


# How far (CSS px) the page reaches beyond the right edge of the viewport: the document's own scroll
# width, and every visible element's right edge unless a scrolling or clipping box (``.table-responsive``)
# holds it. The second catches overflow that ``overflow-x: hidden`` on <body> hides from the first
# but a phone still pans to.
_OVERFLOW_JS = """() => {
  const root = document.documentElement;
  const width = root.clientWidth;
  const result = { worst: root.scrollWidth - width, culprits: [] };
  const clipped = (el) => {
    for (let p = el.parentElement; p && p !== document.body && p !== root; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") return true;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.right <= width + 0.5) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || style.position === "fixed" || clipped(el)) continue;
    const over = Math.ceil(r.right + window.scrollX - width - 0.5);
    result.worst = Math.max(result.worst, over);
    if (result.culprits.length < 5) {
      result.culprits.push(`${el.tagName.toLowerCase()}.${[...el.classList].join(".")} +${over}px`);
    }
  }
  return result;
}"""


def horizontal_overflow(page) -> int:
    """Pixels the page sticks out to the right of the viewport (0 or less: no horizontal scrolling)."""
    return page.evaluate(_OVERFLOW_JS)["worst"]


def overflowing_elements(page) -> list[str]:
    """The first few elements reaching beyond the viewport, for a failure message."""
    return page.evaluate(_OVERFLOW_JS)["culprits"]


SUZHOU_DAY = (9, 20)  # the hours the default rule pack allows visits and calls, in the borrower's zone


@pytest.fixture
def field_daytime(time_machine):
    """Field work needs daytime in Suzhou: outside 09:00-20:00 the server runs at the next 10:30.

    Never in the past, so the browser (whose clock is not moved) keeps the session cookie."""
    shanghai = ZoneInfo("Asia/Shanghai")
    now = dt.datetime.now(shanghai)
    if SUZHOU_DAY[0] <= now.hour < SUZHOU_DAY[1]:
        return
    day = now.date() if now.hour < SUZHOU_DAY[0] else now.date() + dt.timedelta(days=1)
    time_machine.move_to(dt.datetime.combine(day, dt.time(10, 30), shanghai), tick=True)


@pytest.fixture
def private_media(settings, tmp_path):
    """Uploads of the test go to its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def photo(tmp_path):
    """A small PNG on disk, for a file input."""
    path = tmp_path / "door.png"
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 200)).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path
