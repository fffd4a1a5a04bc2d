"""The balanced scorecard shows each collector's visit quality: the average review score in the period, and
per month over the last six months, read in the same query as the collectors (the page's count does not grow)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from collections_app.models import Case
from dashboard import selectors
from quality.models import VisitReview
from quality.selectors import month_starts
from tests.dashboard.test_query_count import _populate
from visits.models import Visit

pytestmark = pytest.mark.django_db


def _review(case, collector, reviewer, when: dt.datetime, score: str) -> None:
    visit = Visit.objects.create(case=case, collector=collector, checked_in_at=when, outcome="other")
    VisitReview.objects.update_or_create(
        visit=visit,
        defaults={
            "collector": collector,
            "reason": VisitReview.Reason.SAMPLED,
            "status": VisitReview.Status.DONE,
            "score": Decimal(score),
            "reviewer": reviewer,
            "reviewed_at": when,
        },
    )


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def test_scorecard_quality_in_the_period_and_per_month(dataset, cast, client):
    case = Case.objects.filter(team=cast.team_x).first()
    end = dataset.period.date_to
    inside = max(dataset.period.date_from, end - dt.timedelta(days=1))
    _review(case, cast.collector_a, cast.supervisor_x, _at(inside), "100.0")
    _review(case, cast.collector_a, cast.supervisor_x, _at(inside), "50.0")
    before = dataset.period.date_from - dt.timedelta(days=70)  # before the period, in an earlier month
    _review(case, cast.collector_a, cast.supervisor_x, _at(before), "40.0")
    rows = {r["username"]: r for r in selectors.dashboard(user=cast.supervisor_x, filters=dataset.period)["collectors"]}
    assert rows["collector_a"]["quality"] == Decimal("75.0")
    assert rows["collector_a2"]["quality"] is None
    trend = {point["month"]: point["score"] for point in rows["collector_a"]["quality_trend"]}
    assert list(trend) == month_starts(end)
    assert trend[before.replace(day=1)] == Decimal("40.0")
    assert trend[inside.replace(day=1)] == Decimal("75.0")
    # The page shows it with a link to the collector's quality page; the JSON has it too.
    client.force_login(cast.supervisor_x)
    params = {"period": "custom", "date_from": dataset.period.date_from, "date_to": end}
    page = client.get(reverse("dashboard"), params).content.decode()
    assert reverse("collector-quality", args=[cast.collector_a.pk]) in page and ">75.0</a>" in page
    body = client.get("/api/v1/dashboard/", params).json()
    assert {r["username"]: r["quality"] for r in body["collectors"]}["collector_a"] == "75.0"


def _page_queries(client, user) -> int:
    client.force_login(user)
    caches["dashboard"].clear()
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/dashboard/", {"period": "30d"}).status_code == 200
    return len(queries.captured_queries)


@pytest.mark.parametrize("role", ["manager", "supervisor_x"])
def test_reviews_add_no_query_to_the_dashboard(client, cast, role):
    _populate(cast, 10)
    without = _page_queries(client, getattr(cast, role))
    now = timezone.now()
    for n, visit in enumerate(Visit.objects.select_related("case").order_by("pk")[:10]):
        for months_ago in range(6):
            when = now - dt.timedelta(days=31 * months_ago)
            other = Visit.objects.create(
                case=visit.case, collector=visit.collector, checked_in_at=when, outcome="other"
            )
            VisitReview.objects.update_or_create(
                visit=other,
                defaults={
                    "collector": visit.collector,
                    "reason": VisitReview.Reason.SAMPLED,
                    "status": VisitReview.Status.DONE,
                    "score": Decimal(50 + n),
                    "reviewed_at": when,
                },
            )
    assert VisitReview.objects.filter(status=VisitReview.Status.DONE).count() >= 60
    assert _page_queries(client, getattr(cast, role)) == without <= 15
