"""Fuzzed scope of the borrower link: whatever a borrower sends with their token, they read only their own plan
and payments and write only onto their own case; a token changed anywhere reads nobody's."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collections_app.models import CaseEvent, Stage
from repayment.services.payments import payment_record
from repayment.services.plans import plan_propose
from tests.factories import agreement_ready, case_walked_to
from voice import links
from voice.models import Complaint, VisitRating
from voice.services_link import link_create

pytestmark = pytest.mark.django_db
# Each borrower's payment is an amount no other page shows: seeing it elsewhere is a leak.
PAID = [Decimal("101.11"), Decimal("202.22"), Decimal("303.33")]


@pytest.fixture
def borrowers(cast, settings):
    """Three borrowers, each with a case in follow-up, an active plan, one payment and a link. The examples of a
    run share one link per borrower: the hourly limit (tested on its own) is lifted here."""
    settings.BORROWER_LINK_RATE_PER_HOUR = 10_000
    worlds = []
    for paid in PAID:
        case = case_walked_to(cast, Stage.NEGOTIATION)
        agreement_ready(case, cast.collector_a)
        plan_propose(
            case=case,
            actor=cast.collector_a,
            kind="instalments",
            base_amount=Decimal("3000.00"),
            instalment_count=3,
            first_due_date=timezone.localdate() + dt.timedelta(days=10),
        )
        payment_record(case=case, actor=cast.collector_a, amount=paid, paid_on=timezone.localdate(), channel="cash")
        worlds.append((case, link_create(case=case, actor=cast.collector_a)))
    return worlds


ACTIONS = st.sampled_from(["view", "confirm", "request", "rating", "complaint"])
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(who=st.integers(0, len(PAID) - 1), action=ACTIONS, text=TEXT, rating=st.integers(-2, 8))
def test_a_token_reads_and_writes_only_its_own_borrower(client, borrowers, who, action, text, rating):
    own, link = borrowers[who]
    url = reverse("borrower-page", kwargs={"token": links.sign(link)})
    others = [c for n, (c, _link) in enumerate(borrowers) if n != who]

    def written(cases) -> tuple:
        return (
            CaseEvent.objects.filter(case__in=cases).count(),
            Complaint.objects.filter(case__in=cases).count(),
            VisitRating.objects.filter(case__in=cases).count(),
        )

    before, own_before = written(others), written([own])
    data = {
        "confirm": {"action": "confirm"},
        "request": {"action": "request", "request-kind": "visit", "request-window": text},
        "rating": {"action": "rating", "rating-rating": str(rating), "rating-comment": text},
        "complaint": {"action": "complaint", "complaint-category": "other", "complaint-text": text},
    }.get(action)
    response = client.post(url, data) if data else client.get(url)
    assert response.status_code in (200, 302, 400)
    page = client.get(url).content.decode()
    assert f"{PAID[who]:,}" in page
    for n, paid in enumerate(PAID):
        if n != who:
            assert f"{paid:,}" not in page
    # Nothing landed on another borrower's case (examples share the database: compare counts); what was
    # accepted landed on this borrower's own case.
    assert written(others) == before
    if data and response.status_code == 302:
        assert written([own])[0] > own_before[0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(who=st.integers(0, len(PAID) - 1), position=st.integers(0, 200), char=st.sampled_from("AZaz09-_:"))
def test_a_token_changed_anywhere_reads_nobody(client, borrowers, who, position, char):
    token = links.sign(borrowers[who][1])
    index = position % len(token)
    if token[index] == char:
        return
    forged = token[:index] + char + token[index + 1 :]
    response = client.get(reverse("borrower-page", kwargs={"token": forged}))
    assert response.status_code == 404
    body = response.content.decode()
    assert not any(f"{paid:,}" in body for paid in PAID)
