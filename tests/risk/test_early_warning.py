"""The early-warning list and care cases: scoped to the team's branch, one click to open, recorded like a visit."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collections_app.models import AuditLog
from risk.models import CareCase
from risk.services import care_case_open, care_case_record
from tests.risk.helpers import a_model, a_scored_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(cast):
    model = a_model()
    return {
        "high_a": a_scored_account(model, cast.branch_a, 0.62, previous=0.30, account_no="EW-A1"),
        "rising_a": a_scored_account(model, cast.branch_a, 0.18, previous=0.02, account_no="EW-A2"),
        "low_a": a_scored_account(model, cast.branch_a, 0.05, previous=0.04, account_no="EW-A3"),
        "high_b": a_scored_account(model, cast.branch_b, 0.70, account_no="EW-B1"),
    }


def _listed(client, user, query=""):
    client.force_login(user)
    response = client.get(reverse("early-warning") + query)
    assert response.status_code == 200
    body = response.content.decode()
    shown = [no for no in ("EW-A1", "EW-A2", "EW-A3", "EW-B1") if f'data-account="{no}"' in body]
    return sorted(shown, key=lambda no: body.index(f'data-account="{no}"')), body


def test_supervisor_sees_the_risky_and_rising_accounts_of_their_branch_riskiest_first(client, cast, scored):
    listed, body = _listed(client, cast.supervisor_x)
    assert listed == ["EW-A1", "EW-A2"]  # 0.05 is below the threshold and barely rose; EW-B1 is another branch
    assert body.index("EW-A1") < body.index("EW-A2")
    assert "Paid share of the amount due, three months" in body


def test_rose_most_order_puts_the_fastest_rise_first(client, cast, scored):
    _shown, body = _listed(client, cast.supervisor_x, "?order=rise")
    # EW-A1 rose 0.32 and EW-A2 0.16: the larger rise comes first.
    assert body.index('data-account="EW-A1"') < body.index('data-account="EW-A2"')
    scored["rising_a"].risk_scores.update(previous=0.0, score=0.5)  # now +0.50
    _shown, body = _listed(client, cast.supervisor_x, "?order=rise")
    assert body.index('data-account="EW-A2"') < body.index('data-account="EW-A1"')


def test_manager_sees_every_branch_and_collectors_are_refused(client, cast, scored):
    listed, _body = _listed(client, cast.manager)
    assert listed == ["EW-B1", "EW-A1", "EW-A2"]
    client.force_login(cast.collector_a)
    assert client.get(reverse("early-warning")).status_code == 403


def test_an_overdue_account_is_not_an_early_warning(client, cast, scored):
    scored["high_a"].overdue_amount = 100
    scored["high_a"].save()
    listed, _body = _listed(client, cast.supervisor_x)
    assert listed == ["EW-A2"]


def test_the_list_reads_a_constant_number_of_queries(client, cast):
    model = a_model()
    client.force_login(cast.manager)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("early-warning")).status_code == 200
        return len(queries)

    for i in range(3):
        a_scored_account(model, cast.branch_a, 0.5 + i / 100)
    small = count()
    for i in range(30):
        a_scored_account(model, cast.branch_b if i % 2 else cast.branch_a, 0.3 + i / 100)
    assert count() == small <= 8


def test_supervisor_opens_a_care_case_in_one_click_and_the_collector_records_it(client, cast, scored):
    client.force_login(cast.supervisor_x)
    account = scored["high_a"]
    response = client.post(reverse("care-open", args=[account.pk]), {"collector": cast.collector_a.pk}, follow=True)
    assert "Care case opened for EW-A1" in response.content.decode()
    care = CareCase.objects.get(account=account)
    assert (care.team, care.assigned_collector, care.status) == (cast.team_x, cast.collector_a, CareCase.Status.OPEN)
    assert care.risk_score.score == pytest.approx(0.62)
    assert AuditLog.objects.filter(action="care.open", object_id=str(care.pk)).exists()
    _shown, body = _listed(client, cast.supervisor_x)
    assert "Care case open" in body

    client.force_login(cast.collector_b)
    assert client.get(reverse("care-detail", args=[care.pk])).status_code == 404
    client.force_login(cast.collector_a)
    assert 'data-account="EW-A1"' in client.get(reverse("care-list")).content.decode()
    response = client.post(
        reverse("care-detail", args=[care.pk]),
        {"channel": "visit", "outcome": "reached_difficulty", "note": "Lost a second job; asks for a smaller payment."},
    )
    assert response.status_code == 302
    care.refresh_from_db()
    assert (care.status, care.outcome, care.recorded_by) == (
        CareCase.Status.DONE,
        "reached_difficulty",
        cast.collector_a,
    )
    assert AuditLog.objects.filter(action="care.record", object_id=str(care.pk)).exists()


def test_care_case_rules(cast, scored):
    with pytest.raises(Exception, match="supervisor of a team in the account's branch"):
        care_case_open(account=scored["high_b"], actor=cast.supervisor_x)
    with pytest.raises(Exception, match="not a collector of this team"):
        care_case_open(account=scored["high_a"], actor=cast.supervisor_x, collector=cast.collector_b)
    care = care_case_open(account=scored["high_a"], actor=cast.supervisor_x)
    with pytest.raises(Exception, match="already has an open care case"):
        care_case_open(account=scored["high_a"], actor=cast.supervisor_x)
    with pytest.raises(Exception, match="Only the assigned collector"):
        care_case_record(care=care, actor=cast.collector_b, channel="call", outcome="no_answer")
    care_case_record(care=care, actor=cast.supervisor_x, channel="call", outcome="no_answer")
    with pytest.raises(Exception, match="already recorded"):
        care_case_record(care=care, actor=cast.supervisor_x, channel="call", outcome="no_answer")


def test_open_care_is_post_only_and_another_branch_is_404(client, cast, scored):
    client.force_login(cast.supervisor_x)
    assert client.get(reverse("care-open", args=[scored["high_a"].pk])).status_code == 405
    assert client.post(reverse("care-open", args=[scored["high_b"].pk])).status_code == 404
    assert client.post(reverse("care-open", args=[999999])).status_code == 404


def test_api_gives_statements_score_and_factors_to_supervisors_in_scope(client, cast, scored):
    from django.urls import reverse as url

    account = scored["high_a"]
    client.force_login(cast.supervisor_x)
    data = client.get(url("api-risk-account", args=[account.pk])).json()
    assert data["account_no"] == "EW-A1" and data["risk_score"] == pytest.approx(0.62) and data["model_version"] == 1
    assert data["risk_factors"][0]["feature"] == "pay_ratio_3m" and data["risk_factors"][0]["label"]
    assert data["statements"] == [{"period_end": "2026-03-31", "balance": "5000.00", "amount_paid": "100.00", "dpd": 0}]
    assert client.get(url("api-risk-account", args=[scored["high_b"].pk])).status_code == 404
    client.force_login(cast.collector_a)
    assert client.get(url("api-risk-account", args=[account.pk])).status_code == 403


def test_pages_of_fifty_without_counting_every_score(client, cast):
    model = a_model()
    for i in range(55):
        a_scored_account(model, cast.branch_a, 0.9 - i / 100, account_no=f"PG{i:03d}")
    client.force_login(cast.supervisor_x)
    first = client.get(reverse("early-warning")).content.decode()
    assert first.count('data-account="PG') == 50 and "page=2" in first and 'data-account="PG000"' in first
    second = client.get(reverse("early-warning") + "?page=2").content.decode()
    assert second.count('data-account="PG') == 5 and "page=1" in second and 'data-account="PG054"' in second
    assert client.get(reverse("early-warning") + "?page=x").status_code == 200
