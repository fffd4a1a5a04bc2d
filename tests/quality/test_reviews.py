"""Visit quality review: deterministic sampling, the rubric score, the queue, the collector's one reply."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from collections_app.models import AuditLog, Notification
from quality import reviews
from quality.models import RubricItem, Verdict, VisitReview, rubric_score

pytestmark = pytest.mark.django_db

ALL_PASS = {item: {"verdict": Verdict.PASS, "note": ""} for item in RubricItem.values}


def test_the_draw_is_fixed_by_the_seed_and_the_rate_holds_over_many_visits():
    draws = [reviews.draw(n, "seed-1") for n in range(1, 5001)]
    assert draws == [reviews.draw(n, "seed-1") for n in range(1, 5001)]
    assert draws != [reviews.draw(n, "seed-2") for n in range(1, 5001)]
    assert 0.09 < sum(d < 0.10 for d in draws) / len(draws) < 0.11
    assert 0.48 < sum(d < 0.50 for d in draws) / len(draws) < 0.52


def test_a_new_collector_is_sampled_at_the_higher_rate(visited_case, cast, settings):
    visit = visited_case.visit
    settings.QUALITY_REVIEW_RATE, settings.QUALITY_REVIEW_NEW_COLLECTOR_RATE = 0.0, 1.0
    review = reviews.review_sample(visit=visit)
    assert review.reason == VisitReview.Reason.NEW_COLLECTOR and review.collector == cast.collector_a
    VisitReview.objects.all().delete()
    type(cast.collector_a).objects.filter(pk=cast.collector_a.pk).update(
        date_joined=visit.checked_in_at - dt.timedelta(days=90)
    )
    visit.collector.refresh_from_db()
    assert reviews.review_sample(visit=visit) is None
    settings.QUALITY_REVIEW_RATE = 1.0
    assert reviews.review_sample(visit=visit).reason == VisitReview.Reason.SAMPLED


def _veteran(collector, when):
    VisitReview.objects.all().delete()  # the sample the visit drew when it was logged
    type(collector).objects.filter(pk=collector.pk).update(date_joined=when - dt.timedelta(days=365))
    collector.refresh_from_db()


def test_a_collector_named_in_a_recent_conduct_complaint_is_sampled_at_the_higher_rate(
    visited_case, cast, settings, time_machine
):
    from voice.models import Complaint
    from voice.services import complaint_log

    visit = visited_case.visit
    _veteran(visit.collector, visit.checked_in_at)
    settings.QUALITY_REVIEW_RATE, settings.QUALITY_REVIEW_NEW_COLLECTOR_RATE = 0.0, 1.0
    settings.QUALITY_CONDUCT_WINDOW_DAYS = 30
    assert reviews.review_sample(visit=visit) is None
    # Another category, or another collector named, changes nothing.
    complaint_log(case=visited_case, actor=cast.supervisor_x, category="contact", text="Called at night")
    complaint_log(
        case=visited_case, actor=cast.supervisor_x, category="conduct", text="Rude", collector_named=cast.collector_b
    )
    assert reviews.review_sample(visit=visit) is None
    complaint = complaint_log(
        case=visited_case, actor=cast.supervisor_x, category="conduct", text="Shouted", collector_named=visit.collector
    )
    # The rate defaults to the first-30-days rate; the reason says why the visit is in the queue.
    review = reviews.review_sample(visit=visit)
    assert review.reason == VisitReview.Reason.CONDUCT_COMPLAINT and review.collector == visit.collector
    VisitReview.objects.all().delete()
    settings.QUALITY_REVIEW_CONDUCT_RATE = 0.0
    assert reviews.review_sample(visit=visit) is None
    # Out of the window (received more than 30 days before the visit), the complaint no longer counts.
    settings.QUALITY_REVIEW_CONDUCT_RATE = 1.0
    Complaint.objects.filter(pk=complaint.pk).update(created_at=visit.checked_in_at - dt.timedelta(days=31))
    assert reviews.review_sample(visit=visit) is None


def test_the_conduct_rate_is_deterministic_for_a_seed(visited_case, cast, settings):
    """At a rate between 0 and 1, the same visit and seed always give the same answer; the draw is the one
    the other rates use, so only the threshold moved."""
    from voice.services import complaint_log

    visit = visited_case.visit
    _veteran(visit.collector, visit.checked_in_at)
    complaint_log(
        case=visited_case, actor=cast.supervisor_x, category="conduct", text="Shouted", collector_named=visit.collector
    )
    value = reviews.draw(visit.pk, "seed-1")
    settings.QUALITY_REVIEW_RATE = 0.0
    for threshold, sampled in ((value + 0.001, True), (max(value - 0.001, 0.0), False)):
        settings.QUALITY_REVIEW_CONDUCT_RATE = threshold
        answers = set()
        for _round in range(3):
            VisitReview.objects.all().delete()
            answers.add(reviews.review_sample(visit=visit, seed="seed-1") is not None)
        assert answers == {sampled}
    assert reviews.sampling_rate(collector=visit.collector, when=visit.checked_in_at) == (
        max(value - 0.001, 0.0),
        VisitReview.Reason.CONDUCT_COMPLAINT,
    )


def test_a_new_visit_is_drawn_when_its_transaction_commits(
    case_in_stage, cast, settings, django_capture_on_commit_callbacks
):

    settings.QUALITY_REVIEW_NEW_COLLECTOR_RATE = 1.0
    from visits.models import Visit

    case = case_in_stage("visit")
    with django_capture_on_commit_callbacks(execute=True):
        visit = Visit.objects.create(
            case=case,
            collector=cast.collector_a,
            checked_in_at=dt.datetime(2026, 3, 10, 2, tzinfo=dt.UTC),
            outcome="other",
        )
    assert VisitReview.objects.get(visit=visit).reason == VisitReview.Reason.NEW_COLLECTOR


def test_rubric_score_counts_passes_among_applicable_items():
    items = {**ALL_PASS, "plan": {"verdict": Verdict.NOT_APPLICABLE}, "conduct": {"verdict": Verdict.FAIL}}
    assert rubric_score(items) == Decimal("80.0")
    assert rubric_score(ALL_PASS) == Decimal("100.0")
    assert rubric_score({item: {"verdict": Verdict.NOT_APPLICABLE} for item in RubricItem.values}) is None


def test_supervisor_reviews_from_the_queue_and_the_collector_reads_and_replies_once(client, visited_case, cast):
    client.force_login(cast.supervisor_x)
    visit = visited_case.visit
    VisitReview.objects.filter(visit=visit).delete()  # a sample the visit may have drawn: here it is picked by hand
    response = client.post(reverse("review-pick", args=[visit.pk]))
    review = VisitReview.objects.get(visit=visit)
    assert response.status_code == 302 and review.reason == VisitReview.Reason.PICKED
    assert f'data-review="{review.pk}"' in client.get(reverse("review-queue")).content.decode()
    data = {f"{item}_verdict": "pass" for item in RubricItem.values}
    data.update(conduct_verdict="fail", conduct_note="", comment="Slow down; let the borrower talk.")
    page = client.post(review.get_absolute_url(), data).content.decode()
    assert "Say what went wrong" in page
    data["conduct_note"] = "Raised his voice at the door"
    assert client.post(review.get_absolute_url(), data).status_code == 302
    review.refresh_from_db()
    assert review.status == "done" and review.score == Decimal("83.3") and review.reviewer == cast.supervisor_x
    assert Notification.objects.get(recipient=cast.collector_a, kind="review")
    assert AuditLog.objects.filter(action="review.submit", object_id=str(review.pk)).exists()
    # The collector reads it and replies once.
    client.force_login(cast.collector_a)
    page = client.get(review.get_absolute_url()).content.decode()
    assert "Raised his voice at the door" in page and "83.3" in page and 'name="reply"' in page
    assert (
        client.post(reverse("review-reply", args=[review.pk]), {"reply": "He was shouting first."}).status_code == 302
    )
    client.post(reverse("review-reply", args=[review.pk]), {"reply": "Again"})
    review.refresh_from_db()
    assert review.reply == "He was shouting first."
    page = client.get(reverse("my-reviews")).content.decode()
    assert f'data-review="{review.pk}"' in page and "83.3" in page


def test_review_scoping(client, visited_case, cast):
    review = reviews.review_pick(visit=visited_case.visit, actor=cast.supervisor_x)
    for who, status in (("supervisor_y", 404), ("collector_b", 404), ("collector_a2", 404), ("manager", 200)):
        client.force_login(getattr(cast, who))
        assert client.get(review.get_absolute_url()).status_code == status, who
    client.force_login(cast.manager)
    assert 'name="conduct_verdict"' not in client.get(review.get_absolute_url()).content.decode()
    client.force_login(cast.supervisor_y)
    assert client.post(reverse("review-pick", args=[visited_case.visit.pk])).status_code == 404
    client.force_login(cast.collector_a)
    assert client.post(reverse("review-pick", args=[visited_case.visit.pk])).status_code == 403
    assert client.get(reverse("review-queue")).status_code == 302


def test_queue_has_no_n_plus_one(client, cast, visited_case, django_assert_max_num_queries):
    reviews.review_pick(visit=visited_case.visit, actor=cast.supervisor_x)
    client.force_login(cast.supervisor_x)
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("review-queue"))
    from visits.models import Visit

    for n in range(5):
        extra = Visit.objects.create(
            case=visited_case,
            collector=cast.collector_a,
            checked_in_at=dt.datetime(2026, 3, 1, 2 + n, tzinfo=dt.UTC),
            outcome="other",
        )
        reviews.review_pick(visit=extra, actor=cast.supervisor_x)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("review-queue"))


def test_chinese_queue(client, cast):
    client.force_login(cast.supervisor_x)
    assert "走访质检" in client.get(reverse("review-queue"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


def test_supervisor_sees_each_collectors_quality_score(client, visited_case, cast):
    review = reviews.review_pick(visit=visited_case.visit, actor=cast.supervisor_x)
    reviews.review_submit(review=review, actor=cast.supervisor_x, items=ALL_PASS)
    client.force_login(cast.supervisor_x)
    page = client.get(reverse("review-queue")).content.decode()
    assert 'data-collector-score="collector_a"' in page and "100.0" in page
    client.force_login(cast.supervisor_y)
    assert 'data-collector-score="collector_a"' not in client.get(reverse("review-queue")).content.decode()


def test_a_coaching_note_points_to_a_playbook_section_the_collector_reads(client, visited_case, cast):
    from tests.quality.test_playbooks import _playbook

    playbook = _playbook(cast, title="Job loss")
    visit = visited_case.visit
    VisitReview.objects.filter(visit=visit).delete()
    review = reviews.review_pick(visit=visit, actor=cast.supervisor_x)
    client.force_login(cast.supervisor_x)
    data = {f"{item}_verdict": "pass" for item in RubricItem.values}
    data.update(comment="Open with the talking points.", playbook_section="points")
    # A section needs its playbook: refused, nothing saved.
    page = client.post(review.get_absolute_url(), data).content.decode()
    assert "Choose the playbook the section belongs to." in page
    review.refresh_from_db()
    assert review.status == VisitReview.Status.PENDING and review.playbook_section == ""
    data["playbook"] = playbook.pk
    assert client.post(review.get_absolute_url(), data).status_code == 302
    review.refresh_from_db()
    assert (review.playbook, review.playbook_section) == (playbook, "points")
    audit = AuditLog.objects.get(action="review.submit", object_id=str(review.pk))
    assert (audit.changes["playbook"], audit.changes["section"]) == (playbook.pk, "points")
    client.force_login(cast.collector_a)
    page = client.get(review.get_absolute_url()).content.decode()
    assert "Job loss — Talking points" in page
    client.cookies.load({"django_language": "zh-hans"})
    page = client.get(review.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "要点" in page or "话术" in page
