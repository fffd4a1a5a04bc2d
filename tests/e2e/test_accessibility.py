"""axe-core over every page of the tour, as every role, in English and Chinese, on a 375 px phone.

axe-core is vendored for the tests only (tests/e2e/vendor/, from the npm registry, see
static/vendor/README.md) and evaluated in the page through the DevTools protocol, which the
Content-Security-Policy does not apply to; users never download it. A page passes with no
*serious* or *critical* violation (WCAG 2.x A/AA and axe's best practices); the counts of every
impact are printed (``-s``) so a drift in the moderate ones shows too. Django's admin and the API's
Swagger UI are third-party pages and are left out.
"""

from collections import Counter
from pathlib import Path

import pytest

from tests.e2e.conftest import PHONE, login
from tests.e2e.test_every_page import PAGES, USERNAMES, A, C, M, S, _url
from tests.e2e.tour import build_tour

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
BLOCKING = {"serious", "critical"}
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
THIRD_PARTY = ("admin:", "api:")
_RUN_JS = """(tags) => axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] })
  .then((r) => r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")), count: v.nodes.length })))"""


@pytest.fixture
def tour(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_tour()


def axe_violations(page) -> list[dict]:
    """Run axe-core in the page; its violations (id, impact, help, first nodes, count)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(_RUN_JS, TAGS)


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
@pytest.mark.parametrize("role", [C, S, M, A])
def test_no_serious_accessibility_violation_on_any_page(role, locale, tour, browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale=locale, timezone_id="Asia/Shanghai", **PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    impacts: Counter = Counter()
    blocking: list[str] = []
    checked = 0
    try:
        login(page, USERNAMES[role])
        for entry in PAGES:
            if entry.name.startswith(THIRD_PARTY) or role not in entry.allowed:
                continue
            url = _url(tour, entry)
            response = page.goto(url, wait_until="load")
            assert response is not None and response.status == 200, url
            checked += 1
            for violation in axe_violations(page):
                impacts[violation["impact"]] += violation["count"]
                if violation["impact"] in BLOCKING:
                    blocking.append(
                        f"{url}: {violation['impact']} {violation['id']} ({violation['help']}) "
                        f"x{violation['count']} at {violation['nodes']}"
                    )
    finally:
        context.close()
    print(f"axe {role} {locale}: {checked} pages, violations by impact {dict(impacts)}")
    assert blocking == [], "\n".join(blocking)
