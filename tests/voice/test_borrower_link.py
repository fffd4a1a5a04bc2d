import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from collections_app.models import AuditLog, CaseEvent, Notification, Stage
from collections_app.services.cases import case_assign, case_open
from repayment.services.payments import payment_record
from repayment.services.plans import plan_propose
from tests.factories import AccountFactory
from voice import links
from voice.models import BorrowerLink, Complaint
from voice.services_link import link_create, link_revoke

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan_case(case_in_stage, cast):
    case = case_in_stage(Stage.NEGOTIATION)
    plan_propose(
        case=case,
        actor=cast.collector_a,
        kind="instalments",
        base_amount=Decimal("3000.00"),
        instalment_count=3,
        first_due_date=timezone.localdate() + dt.timedelta(days=10),
        note="INTERNAL: borrower hides income",
    )
    payment_record(
        case=case, actor=cast.collector_a, amount=Decimal("123.45"), paid_on=timezone.localdate(), channel="cash"
    )
    return case


def _url(link) -> str:
    return reverse("borrower-page", kwargs={"token": links.sign(link)})


def test_the_link_shows_the_plan_schedule_and_payments_but_no_ids_or_internal_notes(client, cast, plan_case):
    link = link_create(case=plan_case, actor=cast.collector_a)
    url = _url(link)
    account = plan_case.account
    assert account.account_no not in url and account.borrower.national_id not in url
    page = client.get(url).content.decode()
    assert "¥3,000.00" in page and "¥123.45" in page  # the plan and the payment received
    assert page.count("¥1,000.00") == 4  # next due, then the three instalments
    assert "INTERNAL" not in page
    assert account.account_no not in page and account.borrower.national_id not in page
    assert AuditLog.objects.filter(action="borrower_link.use", object_id=str(link.pk)).count() == 1


def test_the_signed_url_is_stable_and_tampering_is_refused(client, cast, case_a):
    link = link_create(case=case_a, actor=cast.collector_a)
    assert _url(link) == _url(BorrowerLink.objects.get(pk=link.pk))
    token = links.sign(link)
    assert client.get(reverse("borrower-page", kwargs={"token": token[:-2] + "xx"})).status_code == 404
    assert client.get(reverse("borrower-page", kwargs={"token": link.token_id})).status_code == 404
    assert client.get(_url(link)).status_code == 200


def test_the_link_expires(client, cast, case_a, time_machine, settings):
    settings.BORROWER_LINK_DAYS = 14
    link = link_create(case=case_a, actor=cast.collector_a)
    time_machine.shift(dt.timedelta(days=13))
    assert client.get(_url(link)).status_code == 200
    time_machine.shift(dt.timedelta(days=2))
    assert client.get(_url(link)).status_code == 404
    assert AuditLog.objects.filter(action="borrower_link.refused").exists()


def test_a_revoked_link_stops_working_and_a_new_link_replaces_the_old(client, cast, case_a):
    first = link_create(case=case_a, actor=cast.collector_a)
    second = link_create(case=case_a, actor=cast.collector_a)
    assert client.get(_url(first)).status_code == 404
    assert client.get(_url(second)).status_code == 200
    client.force_login(cast.supervisor_x)
    assert client.post(reverse("link-revoke", args=[second.pk])).status_code == 302
    client.logout()
    assert client.get(_url(second)).status_code == 404
    assert AuditLog.objects.filter(action="borrower_link.revoke").count() == 1


def test_requests_per_link_and_address_are_rate_limited(client, cast, case_a, settings):
    settings.BORROWER_LINK_RATE_PER_HOUR = 3
    link = link_create(case=case_a, actor=cast.collector_a)
    statuses = [client.get(_url(link)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client.get(_url(link), REMOTE_ADDR="10.1.2.3").status_code == 200


def test_a_token_for_one_borrower_never_reads_another(client, cast, plan_case):
    other = case_open(account=AccountFactory(branch=cast.branch_a), actor=cast.supervisor_x, team=cast.team_x)
    other = case_assign(case=other, collector=cast.collector_a, actor=cast.supervisor_x)
    theirs = link_create(case=other, actor=cast.collector_a)
    page = client.get(_url(theirs)).content.decode()
    assert "¥123.45" not in page and "¥3,000.00" not in page
    assert client.post(_url(theirs), {"action": "confirm"}).status_code == 404  # no plan of its own to confirm
    assert "no-store" in client.get(_url(theirs))["Cache-Control"]
    client.post(_url(theirs), {"action": "complaint", "complaint-category": "other", "complaint-text": "Hi"})
    assert Complaint.objects.get().case == other


def test_the_borrower_confirms_asks_rates_and_complains(client, cast, plan_case):
    link = link_create(case=plan_case, actor=cast.collector_a)
    url = _url(link)
    assert client.post(url, {"action": "confirm"}).status_code == 302
    request = {"action": "request", "request-kind": "visit", "request-window": "Saturday 10-12"}
    assert client.post(url, request).status_code == 302
    rating = {"action": "rating", "rating-rating": "4", "rating-comment": "Polite"}
    assert client.post(url, rating).status_code == 302
    assert client.post(url, {"action": "rating", "rating-rating": "9"}).status_code == 400
    complaint = {"action": "complaint", "complaint-category": "contact", "complaint-text": "Too many calls."}
    assert client.post(url, complaint).status_code == 302
    actions = set(
        CaseEvent.objects.filter(case=plan_case, kind="borrower_link").values_list("payload__action", flat=True)
    )
    assert {"created", "plan_confirmed", "visit_requested", "visit_rated"} <= actions
    rated = CaseEvent.objects.get(case=plan_case, payload__action="visit_rated")
    assert rated.payload["rating"] == 4 and rated.actor is None
    assert Notification.objects.filter(recipient=cast.collector_a, kind="borrower_link").count() == 3
    client.force_login(cast.collector_a)
    timeline = client.get(plan_case.get_absolute_url()).content.decode()
    assert "The borrower asked for a visit · Saturday 10-12" in timeline
    assert "The borrower rated the visit 4/5 · Polite" in timeline
    filed = Complaint.objects.get()
    assert filed.source == Complaint.Source.LINK and filed.owner == cast.supervisor_x


def test_the_collector_sees_the_link_as_text_and_qr_code(client, cast, case_a):
    client.force_login(cast.collector_a)
    assert client.post(reverse("case-link", args=[case_a.pk])).status_code == 302
    page = client.get(reverse("case-link", args=[case_a.pk])).content.decode()
    link = BorrowerLink.objects.get()
    assert "http://testserver" + _url(link) in page
    assert re.search(r"<svg[^>]*>.*</svg>", page, re.S)
    client.force_login(cast.collector_b)
    assert client.get(reverse("case-link", args=[case_a.pk])).status_code == 404
    with pytest.raises(Exception, match="collector"):
        link_revoke(link=link, actor=cast.collector_b)


def test_the_borrower_page_speaks_chinese(client, cast, case_a, settings):
    link = link_create(case=case_a, actor=cast.collector_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = client.get(_url(link)).content.decode()
    assert "您的还款" in page and "投诉" in page


def test_guessing_tokens_is_rate_limited_per_address(client, settings):
    settings.BORROWER_LINK_RATE_PER_HOUR = 2
    statuses = [client.get(reverse("borrower-page", kwargs={"token": f"guess{n}:x:y"})).status_code for n in range(3)]
    assert statuses == [404, 404, 429]
    assert AuditLog.objects.filter(action="borrower_link.refused").count() == 2
