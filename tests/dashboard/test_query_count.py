"""The dashboard's query count does not grow with the data (10 vs 1,000 accounts)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from collections_app.aging import local_today
from collections_app.models import AccountBucketSnapshot, Case, CaseEvent, DelinquentAccount, Product, Stage
from repayment.models import Payment, PromiseToPay
from tests.factories import BorrowerFactory
from visits.models import ContactAttempt, Visit
from voice.models import Complaint, VisitRating

pytestmark = pytest.mark.django_db


def _populate(cast, n: int) -> None:
    """n accounts across both branches, a case on each, a payment, promise, visit, contact, refusal,
    and snapshots 30 days ago and today — all with bulk_create."""
    today = local_today()
    now = timezone.now()
    borrower = BorrowerFactory()
    accounts = DelinquentAccount.objects.bulk_create(
        DelinquentAccount(
            account_no=f"Q{n}-{i:06d}",
            borrower=borrower,
            branch=cast.branch_a if i % 2 else cast.branch_b,
            product=Product.PERSONAL_CONSUMER,
            outstanding_balance=Decimal("1000.00"),
            overdue_amount=Decimal(i % 400),
            overdue_since=today - dt.timedelta(days=i % 400),
            has_open_case=True,
        )
        for i in range(n)
    )
    stages = Stage.values
    cases = Case.objects.bulk_create(
        Case(
            account=account,
            team=cast.team_x if account.branch_id == cast.branch_a.pk else cast.team_y,
            assigned_collector=cast.collector_a if account.branch_id == cast.branch_a.pk else cast.collector_b,
            stage=stages[i % (len(stages) - 1)],
            overdue_amount_at_open=Decimal("500.00"),
        )
        for i, account in enumerate(accounts)
    )
    CaseEvent.objects.bulk_create(
        [CaseEvent(case=c, kind="transition", from_stage="screening", to_stage="preparation") for c in cases]
        + [
            CaseEvent(case=c, kind="refused", actor=c.assigned_collector, payload={"rule": "quiet_hours"})
            for c in cases
        ]
    )
    Payment.objects.bulk_create(
        Payment(case=c, amount=Decimal("10.00"), paid_on=today, channel="cash", recorded_by=cast.collector_a)
        for c in cases
    )
    PromiseToPay.objects.bulk_create(
        PromiseToPay(
            case=c, amount=Decimal("5.00"), due_date=today, grace_days=0, status="kept", created_by=c.assigned_collector
        )
        for c in cases
    )
    Visit.objects.bulk_create(
        Visit(case=c, collector=c.assigned_collector, checked_in_at=now, outcome="promised") for c in cases
    )
    ContactAttempt.objects.bulk_create(
        ContactAttempt(case=c, actor=c.assigned_collector, result="answered", attempted_at=now) for c in cases
    )
    # Satisfaction: a rating and a complaint per case (README, "Dashboard").
    VisitRating.objects.bulk_create(
        VisitRating(case=c, collector=c.assigned_collector, team=c.team, rating=1 + i % 5) for i, c in enumerate(cases)
    )
    Complaint.objects.bulk_create(
        Complaint(
            case=c, category="conduct", text="x", collector_named=c.assigned_collector, ack_due=now, resolve_due=now
        )
        for c in cases
    )
    AccountBucketSnapshot.objects.bulk_create(
        AccountBucketSnapshot(
            account=a, as_of=day, dpd=5, bucket="1-30", overdue_amount=a.overdue_amount, branch_id=a.branch_id
        )
        for a in accounts
        for day in (today - dt.timedelta(days=30), today)
    )


def _page_queries(client, user, params) -> int:
    client.force_login(user)
    caches["dashboard"].clear()  # count the cold page: the roll matrix computed, not read from the cache
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/dashboard/", params)
    assert response.status_code == 200
    assert response.context["data"]["roll"]["available"]  # every block, the roll rates included, ran
    return len(queries.captured_queries)


@pytest.mark.parametrize("role", ["manager", "supervisor_x"])
def test_query_count_is_the_same_for_10_and_1000_accounts(client, cast, role):
    user = getattr(cast, role)
    _populate(cast, 10)
    small = _page_queries(client, user, {"period": "30d"})
    _populate(cast, 990)
    assert DelinquentAccount.objects.count() == 1000
    large = _page_queries(client, user, {"period": "30d"})
    assert small == large
    # And the JSON endpoint likewise.
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/dashboard/")
    api_large = len(queries.captured_queries)
    assert api_large <= large


@pytest.mark.parametrize("role", ["manager", "supervisor_x"])
def test_the_page_stays_within_the_query_budget(client, cast, role, django_assert_max_num_queries):
    """README, "Performance": at most 15 queries a page, the session and the cold roll matrix included."""
    _populate(cast, 50)
    client.force_login(getattr(cast, role))
    with django_assert_max_num_queries(15):
        assert client.get("/dashboard/", {"period": "30d"}).status_code == 200
    with django_assert_max_num_queries(14):  # the roll matrix now comes from the cache
        assert client.get("/dashboard/", {"period": "30d"}).status_code == 200
