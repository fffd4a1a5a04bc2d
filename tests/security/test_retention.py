"""Retention: closed cases older than the rule pack's period are anonymised by a daily task."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from collections_app import retention
from collections_app.models import AuditLog, Borrower, CaseEvent, CloseReason, Notification, RulePack, Stage
from collections_app.services.cases import case_assign, case_open, case_transition
from collections_app.tasks import retention_anonymise
from tests.factories import AccountFactory, BorrowerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_case(cast):
    def make(borrower=None):
        account = AccountFactory(branch=cast.branch_a, **({"borrower": borrower} if borrower else {}))
        case = case_open(account=account, actor=cast.supervisor_x, team=cast.team_x)
        return case_assign(case=case, collector=cast.collector_a, actor=cast.supervisor_x)

    return make


@pytest.fixture
def closed_case(open_case, cast):
    def make(*, days_ago: int, borrower=None):
        case = open_case(borrower)
        case_transition(
            case=case,
            target=Stage.CLOSED,
            actor=cast.collector_a,
            close_reason=CloseReason.CURED,
            note="Met him at 13812345678, wife's ID 32100219900101123X",
        )
        case.closed_at = timezone.now() - dt.timedelta(days=days_ago)
        type(case).objects.filter(pk=case.pk).update(closed_at=case.closed_at)
        return case

    return make


def test_an_old_closed_case_is_anonymised(closed_case):
    case = closed_case(days_ago=3 * 365)  # CN keeps 2 years
    borrower = case.account.borrower
    assert retention.anonymise_expired() == 1

    borrower.refresh_from_db()
    assert borrower.name == f"[anonymised {borrower.pk}]"
    assert (borrower.national_id_encrypted, borrower.national_id_hash, borrower.employer) == ("", "", "")
    assert borrower.national_id_last4 == ""  # nor its last four characters, which the search box finds
    assert not borrower.phones.exists() and not borrower.addresses.exists()
    payloads = list(CaseEvent.objects.filter(case=case).values_list("payload", flat=True))
    assert payloads and all(p.get("anonymised") and "note" not in p for p in payloads)
    assert any(p.get("close_reason") == CloseReason.CURED for p in payloads)  # structure stays
    row = AuditLog.objects.get(action="retention.anonymise")
    assert row.object_id == str(borrower.pk) and row.changes["cases"] == [case.pk]
    case.refresh_from_db()
    assert case.stage == Stage.CLOSED and case.overdue_amount_at_open  # statistics stay


def test_an_anonymised_cases_notifications_keep_no_account_or_amount(closed_case, cast):
    """A notification's values (account number, amount) would render again from its template."""
    case = closed_case(days_ago=3 * 365)
    note = Notification.objects.create(
        recipient=cast.collector_a,
        case=case,
        kind="reminder",
        message=f"Account {case.account.account_no}: 350.00 due",
        template="Account %(no)s (case #%(case)s) has %(count)s broken promises.",
        params={"no": case.account.account_no, "case": case.pk, "count": 3},
    )
    assert case.account.account_no in note.text
    assert retention.anonymise_expired() == 1
    note.refresh_from_db()
    assert (note.message, note.template, note.params, note.text) == ("—", "", {}, "—")


def test_recent_closed_and_open_cases_are_kept(closed_case, open_case):
    recent = closed_case(days_ago=365)
    still_open = open_case()
    assert retention.anonymise_expired() == 0
    for case in (recent, still_open):
        assert case.account.borrower.national_id_hash
        assert Borrower.objects.get(pk=case.account.borrower_id).phones.exists()


def test_a_borrower_with_another_open_or_recent_case_is_kept(closed_case, open_case):
    borrower = BorrowerFactory()
    closed_case(days_ago=4 * 365, borrower=borrower)
    open_case(borrower)
    other = BorrowerFactory()
    closed_case(days_ago=4 * 365, borrower=other)
    closed_case(days_ago=100, borrower=other)
    assert retention.anonymise_expired() == 0
    assert Borrower.objects.filter(national_id_hash="").count() == 0


def test_a_borrower_with_a_fresh_account_waiting_in_screening_is_kept(closed_case, cast):
    case = closed_case(days_ago=4 * 365)
    AccountFactory(branch=cast.branch_a, borrower=case.account.borrower)
    assert retention.anonymise_expired() == 0


def test_the_rule_packs_period_decides(closed_case, settings):
    case = closed_case(days_ago=int(2.5 * 365))
    RulePack.objects.update_or_create(code="US", defaults={"name": "US", "retention_years": 3})
    settings.DOORSTEP_RULE_PACK = "US"
    assert retention.anonymise_expired() == 0
    settings.DOORSTEP_RULE_PACK = "CN"
    assert retention.anonymise_expired() == 1
    assert Borrower.objects.get(pk=case.account.borrower_id).national_id_hash == ""


def test_anonymising_is_idempotent_and_signals_other_apps(closed_case):
    closed_case(days_ago=3 * 365)
    received = []

    def receiver(sender, borrower_id, case_ids, **kwargs):
        received.append((borrower_id, case_ids))

    retention.borrower_anonymised.connect(receiver)
    try:
        assert retention_anonymise.apply().get() == 1
        assert retention_anonymise.apply().get() == 0
    finally:
        retention.borrower_anonymised.disconnect(receiver)
    assert len(received) == 1
    assert AuditLog.objects.filter(action="retention.anonymise").count() == 1


def test_the_task_is_scheduled_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["retention-anonymise"]
    assert entry["task"] == "collections_app.tasks.retention_anonymise"
    assert entry["schedule"] == 24 * 3600


def test_cutoff_handles_the_29th_of_february():
    leap = dt.datetime(2028, 2, 29, 12, tzinfo=dt.UTC)
    assert retention.retention_cutoff(leap, 2) == dt.datetime(2026, 2, 28, 12, tzinfo=dt.UTC)


def test_anonymising_clears_contacts_found_in_the_field_and_their_history(open_case, closed_case, cast):
    from collections_app.models import BorrowerAddress, BorrowerPhone, ContactPointChange
    from collections_app.services.contacts import FoundContact, contact_point_add, contact_point_set_status

    case = open_case()
    phone = contact_point_add(
        case=case,
        actor=cast.collector_a,
        found=FoundContact(kind="phone", value="13955556666", party="third_party", holder="landlord"),
        origin="visit",
    )
    contact_point_set_status(case=case, actor=cast.collector_a, point=phone, status="wrong", note="a shop")
    contact_point_add(
        case=case, actor=cast.collector_a, found=FoundContact(kind="address", value="Far 1"), origin="visit"
    )
    case_transition(case=case, target=Stage.CLOSED, actor=cast.collector_a, close_reason=CloseReason.CURED)
    type(case).objects.filter(pk=case.pk).update(closed_at=timezone.now() - dt.timedelta(days=3 * 365))
    assert retention.anonymise_expired() == 1
    borrower_id = case.account.borrower_id
    assert not BorrowerPhone.objects.filter(borrower_id=borrower_id).exists()
    assert not BorrowerAddress.objects.filter(borrower_id=borrower_id).exists()
    assert not ContactPointChange.objects.exists()
    row = AuditLog.objects.get(action="retention.anonymise")
    assert row.changes["contact_changes_deleted"] == 3 and row.changes["phones_deleted"] == 2
    payloads = CaseEvent.objects.filter(case=case, kind__startswith="contact_").values_list("payload", flat=True)
    assert payloads and all(set(p) <= {"status", "anonymised"} for p in payloads)
