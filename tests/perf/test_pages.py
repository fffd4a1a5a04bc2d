"""The case page, "my cases" and screening: query counts pinned and independent of the data, and
the values computed once per row or page show what the template tags and filters showed."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.template.defaultfilters import date as date_filter
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from collections_app.models import BorrowerPhone, Product, Stage
from repayment.models import Payment
from repayment.selectors import PANEL_ROWS, case_panel
from tests.factories import AccountFactory
from tests.offline.conftest import planned_case  # noqa: F401 — the fixture
from tests.visits.helpers import DAYTIME
from visits.models import ContactAttempt, Visit, VisitPlan

pytestmark = pytest.mark.django_db

CASE_PAGE_QUERIES = 21  # session, user, case (+ visit plan), phones, addresses, accounts, visits, photos,
# contact attempts, timeline, promises, plans, instalments, payments (+ totals); for the collector, field safety's
# open check-in, and the playbook's latest visit and active playbooks (README, "Field safety", "Playbooks");
# the last statements (README, "Risk and early warning"), the complaints (README, "The borrower's voice"), the
# finances panel's declarations and latest visit with figures (README, "Declared vs verified finances"), and
# the history of the phones and addresses (README, "Contacts found in the field")


@pytest.fixture(autouse=True)
def _daytime(time_machine):
    time_machine.move_to(DAYTIME, tick=True)


def _queries(client, url) -> list[str]:
    client.get(url)  # warm: the session's first write, per-process caches
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def _grow(case, cast, start, stop):
    borrower = case.account.borrower
    for i in range(start, stop):
        BorrowerPhone.objects.create(borrower=borrower, number=f"1390000{i:04d}")
        ContactAttempt.objects.create(
            case=case, actor=cast.collector_a, phone_number=f"1380000{i:04d}", result="no_answer",
            attempted_at=DAYTIME - dt.timedelta(days=1, minutes=i),
        )  # fmt: skip
        Visit.objects.create(
            case=case, collector=cast.collector_a, checked_in_at=DAYTIME - dt.timedelta(days=i + 1), outcome="other"
        )
        Payment.objects.create(
            case=case, amount=Decimal("10.00"), paid_on=DAYTIME.date(), channel="cash", recorded_by=cast.collector_a
        )
        AccountFactory(borrower=borrower, branch=case.account.branch)


def test_case_page_reads_the_phones_once_and_stays_within_fourteen_queries(client, cast, case_in_stage):
    case = case_in_stage(Stage.VISIT)  # a case in visit has its ready plan (the move's guard)
    VisitPlan.objects.filter(case=case).update(overdue_reason="lost job")
    client.force_login(cast.collector_a)
    url = reverse("case-detail", args=[case.pk])
    _grow(case, cast, 0, 2)
    small = _queries(client, url)
    _grow(case, cast, 2, 25)
    large = _queries(client, url)

    assert len(large) == len(small) <= CASE_PAGE_QUERIES
    assert sum("collections_app_borrowerphone" in sql and "FROM" in sql for sql in large) == 1
    assert not any("visits_visitplan" in sql.split("FROM", 1)[1][:40] for sql in large)  # joined to the case
    assert not any(sql.lstrip().upper().startswith(("UPDATE", "INSERT")) for sql in large)  # no session save


def test_case_page_contact_form_offers_the_prefetched_phones(client, cast, case_in_stage):
    case = case_in_stage(Stage.VISIT)
    other = BorrowerPhone.objects.create(borrower=case.account.borrower, number="13900001111", label="work")
    primary = case.account.borrower.phones.get(is_primary=True)
    client.force_login(cast.collector_a)
    html = client.get(reverse("case-detail", args=[case.pk])).content.decode()

    select = html[html.index('name="phone"') : html.index("</select>", html.index('name="phone"'))]
    assert "— another number —" in select
    assert f'value="{primary.pk}" selected' in select
    assert f'<option value="{other.pk}">{other.masked} ({other.get_label_display()})</option>' in select
    assert select.index(str(primary.pk)) < select.index(str(other.pk))  # primary first, as the model orders


def test_case_page_shows_the_visit_preparation_and_none_without_one(client, cast, case_in_stage):
    case = case_in_stage(Stage.PREPARATION)
    client.force_login(cast.collector_a)
    url = reverse("case-detail", args=[case.pk])
    VisitPlan.objects.filter(case=case).delete()  # a case moved to visit before plans were kept
    assert 'id="preparation"' not in client.get(url).content.decode()
    VisitPlan.objects.create(case=case, overdue_reason="lost job")
    page = client.get(url).content.decode()
    assert 'id="preparation"' in page and "lost job" in page


def test_repayment_panel_totals_cover_every_payment_not_only_the_rows_shown(cast, case_in_stage):
    case = case_in_stage(Stage.NEGOTIATION)
    assert case_panel(case, cast.collector_a)["paid_total"] == Decimal("0")
    for i in range(PANEL_ROWS + 3):
        Payment.objects.create(
            case=case,
            amount=Decimal("100.50"),
            held_amount=Decimal("0.25") if i % 2 else Decimal("0"),
            paid_on=DAYTIME.date() - dt.timedelta(days=i),
            channel="cash",
            recorded_by=cast.collector_a,
        )
    with CaptureQueriesContext(connection) as ctx:
        panel = case_panel(case, cast.collector_a)
    assert len(panel["payments"]) == PANEL_ROWS
    assert panel["paid_total"] == Decimal("100.50") * (PANEL_ROWS + 3)
    assert panel["held_total"] == Decimal("0.25") * ((PANEL_ROWS + 3) // 2)
    assert sum("repayment_payment" in q["sql"] for q in ctx.captured_queries) == 1


def test_case_list_rows_show_the_stage_label_and_due_time_as_the_filters_did(client, cast, case_in_stage):
    case = case_in_stage(Stage.PREPARATION)
    case.next_action_due = timezone.now() + dt.timedelta(days=1)
    case.save(update_fields=["next_action_due"])
    client.force_login(cast.collector_a)
    for language in ("en", "zh-hans"):
        client.cookies["django_language"] = language
        html = client.get(reverse("case-list")).content.decode()
        with translation.override(language), timezone.override(timezone.get_current_timezone()):
            due = date_filter(timezone.localtime(case.next_action_due), "SHORT_DATETIME_FORMAT")
            label = str(case.get_stage_display())
        assert html.count(due) == 2  # card and table row
        assert html.count(f">{label}</span>") == 2
        assert html.count(f'href="{case.get_absolute_url()}"') == 2


def test_screening_rows_show_the_translated_product_and_classification(client, cast):
    AccountFactory(branch=cast.branch_a, product="credit_card")
    client.force_login(cast.supervisor_x)
    with translation.override("zh-hans"):
        product = str(Product("credit_card").label)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(reverse("screening")).content.decode()
    assert f"<td>{product}</td>" in html


HOME_QUERIES_COLLECTOR = 12  # session, user, the home's counts, stages and next actions; today's route: the
# collector with team and branch, the day's plans (+ their phones and confirmed addresses), the route order


def test_collectors_home_reads_todays_route_in_a_constant_number_of_queries(client, cast, planned_case):  # noqa: F811
    for i in range(2):
        planned_case(31.30 + 0.01 * i, 120.60)
    client.force_login(cast.collector_a)
    few = _queries(client, reverse("home"))
    for i in range(6):
        planned_case(31.40 + 0.01 * i, 120.70)
    many = _queries(client, reverse("home"))
    assert client.get(reverse("home")).content.decode().count("data-stop=") == 8
    assert len(many) == len(few) <= HOME_QUERIES_COLLECTOR, many
