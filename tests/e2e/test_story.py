"""The whole story in a real browser: screening to a broken promise and the dashboard that shows it.

A supervisor (desktop) screens overdue accounts and opens a case, auto-assigns it; the collector (a
phone with geolocation granted at Suzhou) prepares the visit (checklist, a time outside the quiet
hours), moves it to visit, logs the visit with a photo and "agreed to a plan", proposes an 18-month
plan (above the 12-month threshold: it needs approval); the supervisor approves it; the collector
records a payment and a promise to pay. The promise form accepts no date before today, so the promise
is made through the page due today, and then *time is moved in the database*: its due date becomes
the day before yesterday and its follow-up check falls due (``_make_promise_overdue``). The follow-up
engine marks it broken and sends the case back to visit; the manager's dashboard shows the payment
recovered and the broken promise that were not there at the start.

The engine runs two ways (the same story otherwise):
- ``sweep``: ``manage.py followups --run-once`` in the test process (runs everywhere, SQLite included);
- ``worker``: a real Celery worker with its beat scheduler, in a subprocess, on the live test database
  (``DATABASE_URL``) and Redis — PostgreSQL and Redis needed (skipped locally without them, fails in CI).

Screenshots of each step (phone and desktop): test-artifacts/screenshots/story_*.
"""

import contextlib
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from collections_app.models import Case, DelinquentAccount, Notification, Stage, User
from collections_app.services.screening import accounts_refresh_screening_keys
from repayment.models import FollowUpCheck, Payment, PromiseToPay, RepaymentPlan
from repayment.services.common import deadline_at
from tests.e2e.conftest import PageWatch, horizontal_overflow, login, overflowing_elements
from tests.e2e.tour import png_bytes
from tests.factories import AccountFactory
from visits.models import Visit

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("field_daytime", "private_media"),
]
SHANGHAI = ZoneInfo("Asia/Shanghai")
BASE_DIR = Path(settings.BASE_DIR)
OVERDUE = Decimal("12000.00")
PAID = Decimal("300.00")
PROMISED = Decimal("500.00")
WORKER_WAIT_SECONDS = 60


@pytest.fixture
def world():
    """The demo organisation and users (no demo accounts) and two overdue accounts of branch BR01."""
    call_command("seed_demo", accounts=0, force=True, stdout=open(os.devnull, "w"))  # noqa: SIM115
    branch = User.objects.get(username="supervisor1").team.branch
    accounts = [
        AccountFactory(branch=branch, overdue_amount=OVERDUE, borrower__name="王小明"),
        AccountFactory(branch=branch, overdue_amount=Decimal("3000.00"), borrower__name="李四"),
    ]
    address = accounts[0].borrower.addresses.get()
    address.text, address.lat, address.lng = "苏州市姑苏区人民路 100 号", Decimal("31.2995"), Decimal("120.5860")
    address.save()
    accounts_refresh_screening_keys()
    return accounts[0]


class Story:
    """One browser (context and tab) per person and device, screenshots numbered in story order,
    console errors and dialogs collected."""

    def __init__(self, new_context, shoot):
        self.new_context, self.shoot, self.step = new_context, shoot, 0
        self.tabs: dict[str, tuple] = {}

    def tab(self, who: str, on_phone: bool = False):
        key = f"{who}{'@phone' if on_phone else ''}"
        if key not in self.tabs:
            page = self.new_context(on_phone=on_phone).new_page()
            self.tabs[key] = (page, PageWatch(page), on_phone)
            login(page, who)
        return self.tabs[key][0]

    def snap(self, page, name: str) -> None:
        on_phone = next(phone for tab, _watch, phone in self.tabs.values() if tab is page)
        self.step += 1
        self.shoot(page, f"story_{self.step:02d}_{name}_{'phone' if on_phone else 'desktop'}")
        if on_phone:
            assert horizontal_overflow(page) <= 0, f"{name}: wider than the phone: {overflowing_elements(page)}"

    def watch(self, page) -> PageWatch:
        return next(watch for tab, watch, _phone in self.tabs.values() if tab is page)

    def errors(self) -> list[str]:
        return [e for _page, watch, _phone in self.tabs.values() for e in watch.errors + watch.dialogs]


def _dashboard(page) -> tuple[Decimal, int]:
    """The manager's dashboard over the last 30 days: (recovered amount, broken promises)."""
    page.goto("/dashboard/?period=30d")
    recovered = page.locator("[data-kpi=recovered-amount]").inner_text()
    broken = page.locator("li.list-group-item", has_text="Broken").locator("span").nth(1).inner_text()
    return Decimal(re.sub(r"[^0-9.]", "", recovered)), int(broken.strip())


def _flash(page) -> str:
    return " ".join(page.locator(".alert").all_inner_texts())


def _screen_and_open(story: Story, account: DelinquentAccount) -> Case:
    page = story.tab("supervisor1")
    page.goto("/screening/")
    page.locator(f"tr[data-account-id='{account.pk}'] .js-select-row").check()
    with page.expect_navigation():
        page.click("button[name=scope][value=selected]")
    assert "Opened 1 case" in _flash(page)
    story.snap(page, "screening_opened")
    case = Case.objects.get(account=account)
    assert case.stage == Stage.SCREENING and case.assigned_collector is None

    page.goto("/assignments/")
    story.watch(page).accept_next_dialog()  # "Assign up to … cases?"
    with page.expect_navigation():
        page.click("[data-testid=auto-assign]")
    assert "Auto-assigned 1 case" in _flash(page)
    story.snap(page, "auto_assigned")
    case.refresh_from_db()
    assert case.assigned_collector is not None and case.assigned_collector.team == case.team
    return case


def _prepare_and_visit(story: Story, case: Case, photo: Path) -> Visit:
    collector = case.assigned_collector.username
    page = story.tab(collector, on_phone=True)
    page.goto(f"/cases/{case.pk}/")
    page.click("button[data-transition=preparation]")
    page.click(f"a[href='/cases/{case.pk}/preparation/']")
    page.check("input[name=contact_verified]")
    page.check("input[name=history_reviewed]")
    page.fill("textarea[name=overdue_reason]", "Shop closed for two months")
    page.fill("textarea[name=talking_points]", "Offer instalments over 18 months")
    tomorrow_ten = (timezone.localtime() + dt.timedelta(days=1)).replace(hour=10, minute=0)
    page.fill("input[name=planned_at]", tomorrow_ten.strftime("%Y-%m-%dT%H:%M"))
    story.snap(page, "preparation_form")
    page.click("form[data-draft-key] button[type=submit]")
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    page.click("button[data-transition=visit]")
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    assert page.get_attribute("[data-stage]", "data-stage") == Stage.VISIT
    story.snap(page, "ready_to_visit")

    page.click(f"a[href='/cases/{case.pk}/visits/new/']")
    page.click(".js-checkin")
    # A locator assertion, not wait_for_function: a string predicate is eval'd in the page, which the
    # Content-Security-Policy (no 'unsafe-eval') refuses whenever the first check comes too early.
    expect(page.locator("[name=geo_status]")).to_have_value("ok", timeout=30_000)
    # The check-in button takes the browser's clock; the server's may have been moved to daytime.
    page.fill("input[name=checked_in_at]", (timezone.localtime() - dt.timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M"))
    page.check("input[name=identity_confirmed]")
    page.check("input[name=met][value=borrower]")
    for name, value in (("monthly_income", "9000"), ("monthly_expenses", "5000"), ("other_debt_payments", "500")):
        assert page.get_attribute(f"input[name={name}]", "inputmode") == "decimal"
        page.fill(f"input[name={name}]", value)
    page.select_option("select[name=overdue_reason]", "business")
    page.select_option("select[name=attitude]", "cooperative")
    page.select_option("select[name=outcome]", Visit.Outcome.AGREED_PLAN)
    page.fill("textarea[name=notes]", "Borrower at the shop; agrees to pay monthly.")
    page.set_input_files("input[name=photos]", str(photo))
    story.snap(page, "visit_form")
    page.click("form.js-visit-form [type=submit]")
    page.wait_for_url(re.compile(r"/visits/\d+/$"))
    story.snap(page, "visit_logged")
    visit = Visit.objects.get(case=case)
    assert visit.geo_status == Visit.GeoStatus.OK and abs(visit.lat - Decimal("31.299")) < Decimal("0.001")
    assert visit.photos.count() == 1 and visit.outcome == Visit.Outcome.AGREED_PLAN
    case.refresh_from_db()
    assert case.stage == Stage.NEGOTIATION
    return visit


def _plan_approved(story: Story, case: Case) -> RepaymentPlan:
    collector = case.assigned_collector.username
    page = story.tab(collector, on_phone=True)
    page.goto(f"/cases/{case.pk}/negotiate/")
    page.select_option("select[name=plan-kind]", RepaymentPlan.Kind.INSTALMENTS)
    page.fill("input[name=plan-base_amount]", str(OVERDUE))
    page.fill("input[name=plan-instalment_count]", "18")
    story.snap(page, "negotiate")
    page.click("#plan-form button[name=save][value=submit]")
    page.wait_for_url(re.compile(r"/plans/\d+/$"))
    assert page.get_attribute("[data-plan-status]", "data-plan-status") == RepaymentPlan.Status.PENDING_APPROVAL
    story.snap(page, "plan_awaiting_approval")
    plan = RepaymentPlan.objects.get(case=case)
    assert plan.requires_approval and plan.approval_reasons == ["term"]

    supervisor = story.tab("supervisor1")
    supervisor.goto("/notifications/")
    supervisor.click(f"a[href='/plans/{plan.pk}/']")
    story.snap(supervisor, "plan_to_approve")
    # The income came from the visit and is not verified: approving needs the supervisor's reason.
    supervisor.fill("#decision textarea[name=note]", "Payslip seen at the door; the employer confirmed by phone.")
    supervisor.click("#decision button.btn-success")
    supervisor.wait_for_url(re.compile(rf"/plans/{plan.pk}/$"))
    assert supervisor.get_attribute("[data-plan-status]", "data-plan-status") == RepaymentPlan.Status.ACTIVE
    story.snap(supervisor, "plan_approved")
    case.refresh_from_db()
    assert case.stage == Stage.FOLLOW_UP
    return plan


def _pay_and_promise(story: Story, case: Case) -> PromiseToPay:
    collector = case.assigned_collector.username
    page = story.tab(collector, on_phone=True)
    page.goto(f"/cases/{case.pk}/payments/new/")
    assert page.get_attribute("input[name=amount]", "inputmode") == "decimal"
    page.fill("input[name=amount]", str(PAID))
    page.fill("input[name=reference]", "WX-20260301-0001")
    story.snap(page, "payment_form")
    page.click("form:has(input[name=amount]) button[type=submit]")
    page.wait_for_url(re.compile(r"/payments/\d+/receipt/$"))
    story.snap(page, "receipt")
    assert Payment.objects.get(case=case).amount == PAID

    page.goto(f"/cases/{case.pk}/negotiate/")
    page.fill("input[name=promise-amount]", str(PROMISED))
    page.fill("input[name=promise-due_date]", timezone.localdate().isoformat())
    page.fill("input[name=promise-grace_days]", "0")
    page.click("#promise-form button[type=submit]")
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/negotiate/$"))
    assert "Promise to pay recorded" in _flash(page)
    story.snap(page, "promise_recorded")
    promise = PromiseToPay.objects.get(case=case)
    assert promise.status == PromiseToPay.Status.PENDING
    return promise


def _make_promise_overdue(promise: PromiseToPay) -> FollowUpCheck:
    """Move time in the database: the promise was due the day before yesterday, its check is due now."""
    due = timezone.localdate() - dt.timedelta(days=2)
    PromiseToPay.objects.filter(pk=promise.pk).update(due_date=due)
    checks = FollowUpCheck.objects.filter(promise=promise, kind=FollowUpCheck.Kind.PROMISE_DUE)
    assert checks.update(due_at=deadline_at(promise.case, due, promise.grace_days)) == 1
    check = checks.get()
    assert check.due_at <= dt.datetime.now(dt.UTC)  # due by the real clock too (a worker's clock is not moved)
    return check


# --- the follow-up engine ---------------------------------------------------------------------------------


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _broken_and_back(promise: PromiseToPay, case: Case) -> bool:
    promise.refresh_from_db()
    case.refresh_from_db()
    return promise.status == PromiseToPay.Status.BROKEN and case.stage == Stage.VISIT


def _run_sweep(promise: PromiseToPay, case: Case, tmp_path: Path) -> None:
    call_command("followups", run_once=True, stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert _broken_and_back(promise, case)


def _run_worker(promise: PromiseToPay, case: Case, tmp_path: Path) -> None:
    from config.celery import app

    with app.connection_for_write(url=settings.REDIS_URL) as conn:
        conn.default_channel.queue_purge(app.conf.task_default_queue)
    env = {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DOORSTEP_VAR_DIR": str(tmp_path),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "REPAYMENT_SWEEP_SECONDS": "2",
    }
    name = f"e2e-story-{uuid.uuid4().hex[:8]}@%h"
    cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "--beat", "-n", name]
    cmd += ["--concurrency=1", "--loglevel=INFO", "--without-gossip", "--without-mingle"]
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            cmd, cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + WORKER_WAIT_SECONDS
        while not _broken_and_back(promise, case):
            assert worker.poll() is None, f"the worker stopped: {log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, f"no sweep broke the promise: {log.read_text()[-2000:]}"
            time.sleep(0.5)
    finally:
        with contextlib.suppress(ProcessLookupError):  # a worker that failed to start is already gone
            os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(5)


# Two functions rather than one parametrised: tests/conftest.py adds the service fixtures of a marked
# item to the fixture list its parametrised siblings share, which would skip the SQLite run too.
def test_story_with_the_sweep_command(world, new_context, shoot, tmp_path):
    _story(_run_sweep, world, new_context, shoot, tmp_path)


@pytest.mark.postgres
@pytest.mark.redis
def test_story_with_a_real_celery_worker_and_beat(world, new_context, shoot, tmp_path):
    _story(_run_worker, world, new_context, shoot, tmp_path)


def _story(engine, world, new_context, shoot, tmp_path):
    story = Story(new_context, shoot)
    manager = story.tab("manager")
    assert _dashboard(manager) == (Decimal("0.00"), 0)
    story.snap(manager, "dashboard_before")

    case = _screen_and_open(story, world)
    photo = tmp_path / "doorstep.png"
    photo.write_bytes(png_bytes((320, 240)))
    _prepare_and_visit(story, case, photo)
    _plan_approved(story, case)
    promise = _pay_and_promise(story, case)

    check = _make_promise_overdue(promise)
    engine(promise, case, tmp_path)
    check.refresh_from_db()
    assert (check.status, check.result) == (FollowUpCheck.Status.DONE, PromiseToPay.Status.BROKEN)
    assert DelinquentAccount.objects.get(pk=case.account_id).broken_promises == 1
    assert Notification.objects.filter(recipient=case.assigned_collector, kind="revisit", case=case).count() == 1

    page = story.tab(case.assigned_collector.username, on_phone=True)
    page.goto(f"/cases/{case.pk}/")
    assert page.get_attribute("[data-stage]", "data-stage") == Stage.VISIT
    assert page.get_by_text(re.compile(r"was broken; revisit the borrower")).count() >= 1
    story.snap(page, "case_back_to_visit")
    page.goto("/notifications/")
    assert page.get_by_text(f"Case #{case.pk}:").count() == 1
    story.snap(page, "notification_revisit")

    assert _dashboard(manager) == (PAID, 1)
    story.snap(manager, "dashboard_after")
    manager_phone = story.tab("manager", on_phone=True)
    assert _dashboard(manager_phone) == (PAID, 1)
    story.snap(manager_phone, "dashboard_after")
    assert story.errors() == [], "\n".join(story.errors())
