"""``make screenshots``: the README's pictures, taken from the demo data in a real browser.

Not a test (the name does not match ``test_*.py``, so ``make test`` and ``make e2e`` skip it): run on
purpose, it seeds the demo data (``seed_demo``, default size and seed) into the test database and writes
docs/screenshots/<page>_<phone|desktop>.png — the collector's home (today's route), the plan approval page
(supervisor) and the dashboard (manager) — each the first screen a user sees, reduced to a 256-colour
palette so that each stays well under 200 KB.
"""

import io
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone
from PIL import Image

from collections_app.models import Stage
from repayment.models import RepaymentPlan
from tests.e2e.conftest import DESKTOP, PHONE, login
from visits.models import VisitPlan

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
OUT = Path(settings.BASE_DIR) / "docs" / "screenshots"
SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_BYTES = 200_000


def _busiest_collector() -> str:
    """The demo collector with the most visits planned today: the home with the fullest route."""
    today = timezone.localtime(timezone=SHANGHAI).date()
    row = (
        VisitPlan.objects.filter(planned_at__date=today, case__stage__in=(Stage.PREPARATION, Stage.VISIT))
        .exclude(case__assigned_collector=None)
        .values("case__assigned_collector__username")
        .annotate(n=Count("id"))
        .order_by("-n", "case__assigned_collector__username")
        .first()
    )
    return row["case__assigned_collector__username"] if row else "collector1"


def _plan_to_approve() -> RepaymentPlan:
    plan = (
        RepaymentPlan.objects.filter(status=RepaymentPlan.Status.PENDING_APPROVAL)
        .select_related("case__team__supervisor")
        .order_by("-instalment_count", "id")
        .first()
    )
    assert plan is not None, "the demo data has no plan awaiting approval"
    return plan


def _save(page, name: str) -> Path:
    shot = Image.open(io.BytesIO(page.screenshot(scale="css", animations="disabled")))
    path = OUT / f"{name}.png"
    shot.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    assert path.stat().st_size < MAX_BYTES, f"{path} is {path.stat().st_size} bytes"
    return path


def test_readme_screenshots(browser, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", force=True, stdout=open(os.devnull, "w"))  # noqa: SIM115
    OUT.mkdir(parents=True, exist_ok=True)
    plan = _plan_to_approve()
    shots = [
        ("home", _busiest_collector(), "/"),
        ("approval", plan.case.team.supervisor.username, f"/plans/{plan.pk}/"),
        ("dashboard", "manager", "/dashboard/"),
    ]
    for device, options in (("phone", PHONE), ("desktop", DESKTOP)):
        for name, username, url in shots:
            context = browser.new_context(
                base_url=live_server.url, locale="en-US", timezone_id="Asia/Shanghai", **options
            )
            context.set_default_timeout(30_000)
            page = context.new_page()
            try:
                login(page, username)
                page.goto(url)
                page.wait_for_load_state("networkidle")
                print(_save(page, f"{name}_{device}"))
            finally:
                context.close()
