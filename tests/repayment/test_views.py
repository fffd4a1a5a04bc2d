import datetime as dt
import socket
import threading
import time
from decimal import Decimal

import pytest
from django.urls import reverse

from collections_app.models import Notification, Stage
from repayment.models import Payment, PromiseToPay, RepaymentPlan
from repayment.services import payment_record, plan_propose, promise_create
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
D = Decimal


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _plan(case, actor, today, **kw):
    values = {
        "kind": RepaymentPlan.Kind.INSTALMENTS,
        "base_amount": D("1200.00"),
        "instalment_count": 24,
        "first_due_date": today + dt.timedelta(days=10),
    }
    values.update(kw)
    return plan_propose(case=case, actor=actor, **values)


def test_negotiate_page_shows_forms_for_the_collector(client, negotiation_case, cast):
    login(client, cast.collector_a)
    response = client.get(reverse("case-negotiate", args=[negotiation_case.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'inputmode="decimal"' in html
    assert 'name="plan-idempotency_key"' in html and 'name="promise-idempotency_key"' in html
    assert "<script>" not in html and "onclick" not in html


def test_negotiate_page_shows_affordability_suggestion_from_the_latest_visit(client, negotiation_case, cast):
    from django.utils import timezone

    from visits import models as visits_models

    # A visit row as the visits app stores it (its own service is tested there).
    visits_models.Visit.objects.create(
        case=negotiation_case,
        collector=cast.collector_a,
        checked_in_at=timezone.now(),
        monthly_income=D("8000.00"),
        monthly_expenses=D("5000.00"),
        other_debt_payments=D("1000.00"),
        outcome=visits_models.Visit.Outcome.values[0],
    )
    login(client, cast.collector_a)
    response = client.get(reverse("case-negotiate", args=[negotiation_case.pk]))
    html = response.content.decode()
    # disposable 2000 → capacity 1000 → 5,000.00 over 5 months of 1,000.00
    assert "data-suggestion" in html
    assert 'data-count="5"' in html
    assert "data-capacity>¥1,000.00" in html


def test_negotiate_page_without_financials_has_no_suggestion(client, negotiation_case, cast):
    login(client, cast.collector_a)
    response = client.get(reverse("case-negotiate", args=[negotiation_case.pk]))
    assert b"data-no-suggestion" in response.content


def test_promise_form_records_one_promise_on_double_submit(client, negotiation_case, cast, today):
    login(client, cast.collector_a)
    url = reverse("case-negotiate", args=[negotiation_case.pk])
    data = {
        "action": "promise",
        "promise-amount": "300.00",
        "promise-due_date": (today + dt.timedelta(days=5)).isoformat(),
        "promise-idempotency_key": "same-key",
    }
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302
    assert PromiseToPay.objects.count() == 1
    negotiation_case.refresh_from_db()
    assert negotiation_case.stage == Stage.FOLLOW_UP


def test_plan_form_refusal_is_shown_not_a_500(client, negotiation_case, cast, today):
    login(client, cast.collector_a)
    response = client.post(
        reverse("case-negotiate", args=[negotiation_case.pk]),
        {
            "action": "plan",
            "plan-kind": "instalments",
            "plan-base_amount": "999999.00",
            "plan-instalment_count": "3",
            "plan-first_due_date": (today + dt.timedelta(days=5)).isoformat(),
        },
    )
    assert response.status_code == 400
    assert b"outstanding balance" in response.content
    assert not RepaymentPlan.objects.exists()


def test_plan_form_creates_plan_and_redirects_to_its_schedule(client, negotiation_case, cast, today):
    login(client, cast.collector_a)
    response = client.post(
        reverse("case-negotiate", args=[negotiation_case.pk]),
        {
            "action": "plan",
            "plan-kind": "instalments",
            "plan-base_amount": "1000.00",
            "plan-instalment_count": "3",
            "plan-first_due_date": (today + dt.timedelta(days=5)).isoformat(),
            "save": "submit",
        },
    )
    plan = RepaymentPlan.objects.get()
    assert response.status_code == 302 and response.url == reverse("plan-detail", args=[plan.pk])
    page = client.get(response.url)
    assert page.status_code == 200
    assert page.content.decode().count("data-instalment=") == 3


def test_manager_reads_plan_but_may_not_negotiate(client, negotiation_case, cast, today):
    plan = _plan(negotiation_case, cast.collector_a, today)
    login(client, cast.manager)
    assert client.get(reverse("plan-detail", args=[plan.pk])).status_code == 200
    assert client.get(reverse("case-negotiate", args=[negotiation_case.pk])).status_code == 403
    assert client.get(reverse("payment-create", args=[negotiation_case.pk])).status_code == 403


@pytest.mark.parametrize("name", ["case-negotiate", "payment-create"])
def test_other_team_gets_404_and_bad_id_404(client, negotiation_case, cast, name):
    login(client, cast.collector_b)
    assert client.get(reverse(name, args=[negotiation_case.pk])).status_code == 404
    assert client.get(reverse(name, args=[999999])).status_code == 404


def test_plan_pages_checklist(client, negotiation_case, cast, today):
    plan = _plan(negotiation_case, cast.collector_a, today)
    login(client, cast.collector_b)
    for name in ("plan-detail", "plan-agreement"):
        assert client.get(reverse(name, args=[plan.pk])).status_code == 404
    assert client.post(reverse("plan-approve", args=[plan.pk])).status_code == 404
    login(client, cast.supervisor_x)
    assert client.get(reverse("plan-approve", args=[plan.pk])).status_code == 405
    assert client.get(reverse("plan-agreement", args=[plan.pk])).status_code == 200
    login(client, cast.collector_a)
    assert client.post(reverse("plan-approve", args=[plan.pk])).status_code == 403


def test_supervisor_approves_via_page_and_maker_is_refused(client, negotiation_case, cast, today):
    plan = _plan(negotiation_case, cast.supervisor_x, today)
    login(client, cast.supervisor_x)
    detail = client.get(reverse("plan-detail", args=[plan.pk]))
    assert b"another supervisor must approve" in detail.content
    response = client.post(reverse("plan-approve", args=[plan.pk]), follow=True)
    assert b"maker-checker" in response.content
    plan.refresh_from_db()
    assert plan.status == RepaymentPlan.Status.PENDING_APPROVAL
    login(client, cast.admin)
    client.post(reverse("plan-approve", args=[plan.pk]), {"note": "fine"})
    plan.refresh_from_db()
    assert plan.status == RepaymentPlan.Status.ACTIVE


def test_payment_page_records_and_shows_receipt(client, negotiation_case, cast, today):
    login(client, cast.collector_a)
    url = reverse("payment-create", args=[negotiation_case.pk])
    form = client.get(url)
    assert 'inputmode="decimal"' in form.content.decode()
    data = {"amount": "250.00", "paid_on": today.isoformat(), "channel": "cash", "idempotency_key": "k-1"}
    response = client.post(url, data)
    payment = Payment.objects.get()
    assert response.url == reverse("payment-receipt", args=[payment.pk])
    client.post(url, data)
    assert Payment.objects.count() == 1
    receipt = client.get(response.url)
    assert payment.receipt_no in receipt.content.decode()
    assert b"css/print.css" in receipt.content


def test_payment_over_balance_is_refused_with_message(client, negotiation_case, cast, today):
    login(client, cast.collector_a)
    response = client.post(
        reverse("payment-create", args=[negotiation_case.pk]),
        {"amount": "90000.00", "paid_on": today.isoformat(), "channel": "cash"},
    )
    assert response.status_code == 400
    assert b"outstanding balance" in response.content
    assert not Payment.objects.exists()


def test_case_panel_constant_queries(client, negotiation_case, cast, today, django_assert_max_num_queries):
    from django.template.loader import render_to_string

    _plan(negotiation_case, cast.collector_a, today, instalment_count=3)
    for i in range(5):
        promise_create(
            case=negotiation_case, actor=cast.collector_a, amount=D("10.00"), due_date=today + dt.timedelta(days=i)
        )
        payment_record(case=negotiation_case, actor=cast.collector_a, amount=D("5.00"), paid_on=today, channel="cash")
    with django_assert_max_num_queries(6):
        html = render_to_string("repayment/_case_panel.html", {"case": negotiation_case, "user": cast.collector_a})
    assert html.count("data-payment=") == 5
    assert html.count("data-promise=") == 5


def test_notifications_list_and_mark_read(client, cast, negotiation_case, django_assert_max_num_queries):
    for i in range(5):
        Notification.objects.create(recipient=cast.collector_a, case=negotiation_case, kind="x", message=f"m{i}")
    other = Notification.objects.create(recipient=cast.collector_b, kind="x", message="not yours")
    login(client, cast.collector_a)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("notification-list"))
    assert response.content.decode().count("data-notification=") == 5
    assert b"not yours" not in response.content
    mine = Notification.objects.filter(recipient=cast.collector_a).first()
    assert client.get(reverse("notification-read", args=[mine.pk])).status_code == 405
    assert client.post(reverse("notification-read", args=[other.pk])).status_code == 404
    client.post(reverse("notification-read", args=[mine.pk]))
    mine.refresh_from_db()
    assert mine.read_at is not None
    client.post(reverse("notification-read-all"))
    assert not Notification.objects.filter(recipient=cast.collector_a, read_at__isnull=True).exists()
    other.refresh_from_db()
    assert other.read_at is None


@pytest.fixture
def hung_broker():
    """A TCP server that accepts connections and never answers (a hung Redis)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/5"
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


@pytest.fixture
def point_celery_at(settings):
    """Point this process's Celery app at another broker URL; restored (with fresh pools) afterwards."""
    from config.celery import app

    original = app.conf.broker_url

    def reset_pools():
        app._pool = None
        app.amqp._producer_pool = None

    def point(url):
        settings.CELERY_BROKER_URL = url
        app.conf.broker_url = url
        reset_pools()

    yield point
    app.conf.broker_url = original
    reset_pools()


def test_payment_recorded_quickly_with_broker_down(client, negotiation_case, cast, today, point_celery_at):
    from repayment.tasks import sweep_followups

    point_celery_at("redis://127.0.0.1:1/5")
    with pytest.raises(Exception):  # noqa: B017 — the broker really is unreachable from this process
        sweep_followups.apply_async(retry=False)
    login(client, cast.collector_a)
    started = time.monotonic()
    response = client.post(
        reverse("payment-create", args=[negotiation_case.pk]),
        {"amount": "100.00", "paid_on": today.isoformat(), "channel": "cash"},
    )
    assert time.monotonic() - started < 3
    assert response.status_code == 302
    assert Payment.objects.filter(case=negotiation_case, amount=D("100.00")).exists()


def test_promise_and_payment_recorded_quickly_with_broker_hung(
    client, negotiation_case, cast, today, point_celery_at, hung_broker
):
    point_celery_at(hung_broker)
    login(client, cast.collector_a)
    started = time.monotonic()
    client.post(
        reverse("case-negotiate", args=[negotiation_case.pk]),
        {"action": "promise", "promise-amount": "50.00", "promise-due_date": today.isoformat()},
    )
    client.post(
        reverse("payment-create", args=[negotiation_case.pk]),
        {"amount": "50.00", "paid_on": today.isoformat(), "channel": "mobile"},
    )
    assert time.monotonic() - started < 3
    assert PromiseToPay.objects.get().status == PromiseToPay.Status.KEPT
