"""A collector's quality score over time: their own page (linked from "My reviews" and from the review queue),
readable by the collector, their supervisor and managers; and its query count does not grow with the reviews."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from quality.models import VisitReview
from quality.selectors import collector_score_annotations, month_starts
from visits.models import Visit

pytestmark = pytest.mark.django_db


def _reviewed(case, collector, reviewer, scores_by_month_ago: dict[int, list[str]]) -> None:
    """Reviews of new visits of ``collector``, each dated mid-month ``n`` months before this one."""
    today = timezone.localdate()
    starts = month_starts(today, 12)
    for months_ago, scores in scores_by_month_ago.items():
        when = timezone.make_aware(dt.datetime.combine(starts[-1 - months_ago] + dt.timedelta(days=9), dt.time(10)))
        for score in scores:
            visit = Visit.objects.create(case=case, collector=collector, checked_in_at=when, outcome="other")
            VisitReview.objects.update_or_create(
                visit=visit,
                defaults={
                    "collector": collector,
                    "reason": VisitReview.Reason.PICKED,
                    "status": VisitReview.Status.DONE,
                    "score": Decimal(score),
                    "reviewer": reviewer,
                    "reviewed_at": when,
                },
            )


def test_month_starts_cross_the_year():
    assert month_starts(dt.date(2026, 2, 17), 4) == [
        dt.date(2025, 11, 1),
        dt.date(2025, 12, 1),
        dt.date(2026, 1, 1),
        dt.date(2026, 2, 1),
    ]


def test_the_page_shows_the_average_score_per_month_and_empty_months(client, visited_case, cast):
    _reviewed(visited_case, cast.collector_a, cast.supervisor_x, {0: ["100.0", "80.0"], 2: ["50.0"]})
    client.force_login(cast.collector_a)
    page = client.get(reverse("collector-quality", args=[cast.collector_a.pk])).content.decode()
    starts = month_starts(timezone.localdate(), 12)
    assert f'data-month="{starts[-1]:%Y-%m}" data-score="90.0"' in page
    assert f'data-month="{starts[-2]:%Y-%m}" data-score=""' in page  # no review that month
    assert f'data-month="{starts[-3]:%Y-%m}" data-score="50.0"' in page
    assert page.count("data-month=") == 12 and "<meter" in page
    # "My reviews" links to it.
    assert (
        reverse("collector-quality", args=[cast.collector_a.pk]) in client.get(reverse("my-reviews")).content.decode()
    )


def test_who_may_read_a_collectors_quality(client, cast):
    url = reverse("collector-quality", args=[cast.collector_a.pk])
    for who, status in (
        ("collector_a", 200),
        ("collector_b", 404),  # another collector
        ("supervisor_x", 200),  # collector A's supervisor
        ("supervisor_y", 404),
        ("manager", 200),
    ):
        client.force_login(getattr(cast, who))
        assert client.get(url).status_code == status, who
    assert client.post(url).status_code == 405
    assert client.get(reverse("collector-quality", args=[cast.supervisor_x.pk])).status_code == 404  # not a collector
    assert client.get(reverse("collector-quality", args=[10**9])).status_code == 404


def test_the_review_queue_links_each_collector_to_their_page(client, visited_case, cast):
    _reviewed(visited_case, cast.collector_a, cast.supervisor_x, {0: ["75.0"]})
    client.force_login(cast.supervisor_x)
    page = client.get(reverse("review-queue")).content.decode()
    assert reverse("collector-quality", args=[cast.collector_a.pk]) in page


def _page_queries(client, url) -> int:
    client.get(url)  # warm: the session's first write
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)


def test_the_page_query_count_does_not_grow_with_the_reviews(client, visited_case, cast, django_assert_max_num_queries):
    client.force_login(cast.supervisor_x)
    url = reverse("collector-quality", args=[cast.collector_a.pk])
    _reviewed(visited_case, cast.collector_a, cast.supervisor_x, {0: ["90.0"]})
    few = _page_queries(client, url)
    _reviewed(visited_case, cast.collector_a, cast.supervisor_x, {m: ["70.0", "80.0", "60.0"] for m in range(12)})
    assert _page_queries(client, url) == few
    with django_assert_max_num_queries(6):  # session, user, collector, months, latest reviews (+ savepoint)
        client.get(url)


def test_the_score_annotations_average_the_period_and_each_month(visited_case, cast):
    from collections_app.models import User

    _reviewed(visited_case, cast.collector_a, cast.supervisor_x, {0: ["100.0", "70.0"], 1: ["40.0"]})
    today = timezone.localdate()
    this_month = timezone.make_aware(dt.datetime.combine(today.replace(day=1), dt.time.min))
    period = (this_month, this_month + dt.timedelta(days=40))
    row = (
        User.objects.filter(pk__in=[cast.collector_a.pk, cast.collector_b.pk])
        .annotate(**collector_score_annotations(period=period, last_day=today))
        .order_by("username")
        .values("username", "quality", "quality_m4", "quality_m5", "quality_m0")
    )
    a, b = list(row)
    assert (a["quality"], a["quality_m5"], a["quality_m4"], a["quality_m0"]) == (
        Decimal("85"),
        Decimal("85"),
        Decimal("40"),
        None,
    )
    assert b["quality"] is None
