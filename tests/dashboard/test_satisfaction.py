"""Satisfaction on the balanced scorecard: CSAT (share of 4-5 ratings) and its responses, complaints per 100
visits, per collector, per team and in all, for the period and the user's scope."""

import datetime as dt

import pytest
from django.utils import timezone

from collections_app.models import Stage
from dashboard import selectors
from tests.factories import AccountFactory, CaseFactory
from tests.visits.helpers import DAYTIME
from visits.models import Visit
from voice.models import Complaint, VisitRating
from voice.services import complaint_log
from voice.services_link import borrower_visit_rate, link_create

pytestmark = pytest.mark.django_db


def _rate(case, collector, rating, days_ago=1):
    row = VisitRating.objects.create(case=case, collector=collector, team=case.team, rating=rating)
    VisitRating.objects.filter(pk=row.pk).update(created_at=timezone.now() - dt.timedelta(days=days_ago))


def _complain(case, collector=None, days_ago=1):
    complaint = complaint_log(case=case, actor=None, category="conduct", text="Rude.", collector_named=collector)
    Complaint.objects.filter(pk=complaint.pk).update(created_at=timezone.now() - dt.timedelta(days=days_ago))


def _row(rows, username):
    return next(r for r in rows if r["username"] == username)


def test_csat_and_complaints_per_100_visits_per_collector_team_and_in_all(dataset, cast):
    follow_up, team_y = dataset.cases["follow_up"], dataset.cases["team_y"]
    for rating in (5, 4, 2):
        _rate(follow_up, cast.collector_a, rating)
    _rate(follow_up, cast.collector_a, 5, days_ago=40)  # before the period
    _rate(team_y, cast.collector_b, 1)
    _complain(follow_up, cast.collector_a)
    _complain(follow_up)  # names nobody: the team's and the total's, no collector's
    _complain(team_y, cast.collector_b)

    data = selectors.dashboard(user=cast.supervisor_x, filters=dataset.period)
    a = _row(data["collectors"], "collector_a")
    assert (a["responses"], a["satisfied"], a["csat"]) == (3, 2, 0.6667)
    assert (a["visits"], a["complaints"], a["complaints_per_100_visits"]) == (2, 1, 50.0)
    a2 = _row(data["collectors"], "collector_a2")
    assert (a2["responses"], a2["csat"], a2["complaints"], a2["complaints_per_100_visits"]) == (0, None, 0, 0.0)
    block = data["satisfaction"]
    # Supervisor X never sees team Y's rating or complaint.
    assert (block["responses"], block["csat"], block["complaints"]) == (3, 0.6667, 2)
    assert block["complaints_per_100_visits"] == round(100 * 2 / 3, 2)  # 3 visits of team X in the period
    assert [t["team"] for t in block["teams"]] == [str(cast.team_x)]
    assert block["teams"][0]["complaints"] == 2 and block["teams"][0]["complaints_per_100_visits"] == round(200 / 3, 2)

    everything = selectors.dashboard(user=cast.manager, filters=dataset.period)["satisfaction"]
    assert (everything["responses"], everything["satisfied"], everything["complaints"]) == (4, 2, 3)
    team_y_row = next(t for t in everything["teams"] if t["team"] == str(cast.team_y))
    assert (team_y_row["csat"], team_y_row["complaints"], team_y_row["complaints_per_100_visits"]) == (0.0, 1, None)


def test_a_rating_through_the_link_counts_for_the_collector_who_visited(cast, case_in_stage, time_machine):
    time_machine.move_to(DAYTIME, tick=True)
    case = case_in_stage(Stage.NEGOTIATION)
    Visit.objects.create(case=case, collector=cast.collector_a2, checked_in_at=timezone.now(), outcome="promised")
    link = link_create(case=case, actor=cast.collector_a)
    borrower_visit_rate(link=link, rating=4, comment="Polite and clear")
    rating = VisitRating.objects.get()
    assert (rating.collector, rating.team, rating.rating, rating.link) == (cast.collector_a2, cast.team_x, 4, link)


def test_the_page_shows_satisfaction_next_to_recovery_in_chinese(client, dataset, cast):
    _rate(dataset.cases["follow_up"], cast.collector_a, 5)
    client.force_login(cast.supervisor_x)
    params = {"period": "custom", "date_from": dataset.period.date_from, "date_to": dataset.period.date_to}
    page = client.get("/dashboard/", params, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="table-satisfaction"' in page and 'data-cell="csat"' in page
    assert "满意度" in page and "每百次走访投诉" in page and "100%" in page
    csv = client.get("/dashboard/", {**params, "export": "csv", "table": "satisfaction"})
    assert csv.status_code == 200
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[1].startswith(str(cast.team_x)) and lines[-1].split(",")[1] == "1.0"


def test_anonymising_clears_the_rating_comment_and_keeps_the_rating(cast, case_a):
    from collections_app.models import Borrower
    from collections_app.retention import borrower_anonymised

    VisitRating.objects.create(case=case_a, collector=cast.collector_a, team=case_a.team, rating=5, comment="Mr Wang")
    borrower_anonymised.send(sender=Borrower, borrower_id=case_a.account.borrower_id, case_ids=[case_a.pk])
    assert list(VisitRating.objects.values_list("rating", "comment")) == [(5, "")]


def test_anonymising_clears_the_complaints_words_and_keeps_the_complaint(cast, case_a):
    from collections_app.models import Borrower
    from collections_app.retention import borrower_anonymised

    complaint_log(
        case=case_a, actor=cast.supervisor_x, category="conduct", text="Mr Wang of 5 Renmin Road was shouted at"
    )
    other = CaseFactory(account=AccountFactory(branch=cast.branch_a), team=cast.team_x)
    complaint_log(case=other, actor=cast.supervisor_x, category="contact", text="Called at night")
    borrower_anonymised.send(sender=Borrower, borrower_id=case_a.account.borrower_id, case_ids=[case_a.pk])
    kept = Complaint.objects.get(case=case_a)
    assert (kept.text, kept.resolution_note, kept.category) == ("", "", "conduct")
    assert Complaint.objects.get(case=other).text == "Called at night"
