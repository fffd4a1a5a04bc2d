from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collections_app.models import AuditLog, BorrowerAddress, Case, CaseEvent, Role, Stage
from collections_app.services import screening as services
from collections_app.services.cases import case_assign, case_open, case_transition
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def _open(cast, *, branch=None, team=None, amount="5000.00", supervisor=None):
    branch = branch or cast.branch_a
    account = AccountFactory(branch=branch, overdue_amount=Decimal(amount))
    return case_open(account=account, actor=supervisor or cast.supervisor_x, team=team or cast.team_x)


# --- single assignment -------------------------------------------------------------------


def test_supervisor_assigns_a_case_from_the_form(cast, client):
    case = _open(cast)
    client.force_login(cast.supervisor_x)
    url = reverse("case-assign", args=[case.pk])
    response = client.get(url)
    assert response.status_code == 200
    choices = {c.pk for c in response.context["form"].fields["collector"].queryset}
    assert choices == {cast.collector_a.pk, cast.collector_a2.pk}
    response = client.post(url, {"collector": cast.collector_a.pk})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.assigned_collector == cast.collector_a
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.ASSIGNED).exists()


def test_reassignment_needs_a_reason(cast, client, case_a):
    client.force_login(cast.supervisor_x)
    url = reverse("case-assign", args=[case_a.pk])
    response = client.post(url, {"collector": cast.collector_a2.pk, "reason": "  "})
    assert response.status_code == 200
    assert "Give a reason for the reassignment." in response.content.decode()
    case_a.refresh_from_db()
    assert case_a.assigned_collector == cast.collector_a
    response = client.post(url, {"collector": cast.collector_a2.pk, "reason": "collector A on leave"})
    assert response.status_code == 302
    case_a.refresh_from_db()
    assert case_a.assigned_collector == cast.collector_a2
    event = CaseEvent.objects.get(case=case_a, kind=CaseEvent.Kind.REASSIGNED)
    assert event.payload["reason"] == "collector A on leave"


def test_collector_of_another_team_is_not_offered_and_refused(cast, client):
    case = _open(cast)
    client.force_login(cast.supervisor_x)
    response = client.post(reverse("case-assign", args=[case.pk]), {"collector": cast.collector_b.pk})
    assert response.status_code == 200 and response.context["form"].errors
    case.refresh_from_db()
    assert case.assigned_collector is None


def test_closed_case_assignment_is_refused_with_a_message(cast, client, case_a):
    case_transition(case=case_a, target=Stage.CLOSED, actor=cast.supervisor_x, close_reason="written_off")
    client.force_login(cast.supervisor_x)
    response = client.post(
        reverse("case-assign", args=[case_a.pk]), {"collector": cast.collector_a2.pk, "reason": "why not"}
    )
    assert response.status_code == 200
    assert "A closed case cannot be assigned." in response.content.decode()


def test_assign_refusals(cast, client, case_a):
    url = reverse("case-assign", args=[case_a.pk])
    client.force_login(cast.collector_a)
    assert client.get(url).status_code == 403
    assert client.post(url, {"collector": cast.collector_a2.pk, "reason": "x"}).status_code == 403
    client.force_login(cast.manager)
    assert client.post(url, {"collector": cast.collector_a2.pk, "reason": "x"}).status_code == 403
    client.force_login(cast.supervisor_y)
    assert client.get(url).status_code == 404
    assert client.post(url, {"collector": cast.collector_b.pk, "reason": "x"}).status_code == 404
    client.force_login(cast.supervisor_x)
    assert client.get(reverse("case-assign", args=[999999])).status_code == 404
    assert client.put(url).status_code == 405
    case_a.refresh_from_db()
    assert case_a.assigned_collector == cast.collector_a


# --- the assignments page and bulk assignment --------------------------------------------


def test_assignments_lists_the_teams_open_cases_unassigned_first(cast, client, case_a):
    unassigned_small = _open(cast, amount="100")
    unassigned_big = _open(cast, amount="900000")
    other_team = _open(cast, branch=cast.branch_b, team=cast.team_y, supervisor=cast.supervisor_y)
    client.force_login(cast.supervisor_x)
    response = client.get(reverse("assignments"))
    assert response.status_code == 200
    listed = [c.pk for c in response.context["page"].object_list]
    assert listed[:2] == sorted(
        [unassigned_small.pk, unassigned_big.pk], key=lambda pk: -Case.objects.get(pk=pk).priority_score
    )
    assert listed[2:] == [case_a.pk]
    assert other_team.pk not in listed
    assert b"case-auto-assign" not in response.content  # the URL, not its name, is rendered
    assert reverse("case-auto-assign").encode() in response.content


def test_assignments_page_is_for_supervisors(cast, client):
    for user in (cast.collector_a, cast.manager):
        client.force_login(user)
        assert client.get(reverse("assignments")).status_code == 403
        assert client.post(reverse("case-auto-assign")).status_code == 403
        assert client.post(reverse("case-bulk-assign"), {}).status_code == 403
    client.force_login(cast.supervisor_x)
    assert client.get(reverse("case-auto-assign")).status_code == 405


def test_bulk_assign_and_reassign(cast, client, case_a):
    fresh = [_open(cast) for _ in range(3)]
    foreign = _open(cast, branch=cast.branch_b, team=cast.team_y, supervisor=cast.supervisor_y)
    client.force_login(cast.supervisor_x)
    ids = [c.pk for c in fresh] + [case_a.pk, foreign.pk]
    response = client.post(reverse("case-bulk-assign"), {"case": ids, "collector": cast.collector_a2.pk}, follow=True)
    text = response.content.decode()
    assert "Assigned 3 cases." in text
    assert "1 skipped" in text and "Give a reason for the reassignment." in text
    assert set(Case.objects.filter(assigned_collector=cast.collector_a2)) == set(fresh)
    foreign.refresh_from_db()
    assert foreign.assigned_collector is None
    response = client.post(
        reverse("case-bulk-assign"),
        {"case": [case_a.pk, fresh[0].pk], "collector": cast.collector_a2.pk, "reason": "rebalance"},
        follow=True,
    )
    assert "Assigned 1 case." in response.content.decode()
    case_a.refresh_from_db()
    assert case_a.assigned_collector == cast.collector_a2


def test_bulk_assign_without_selection_or_collector_says_so(cast, client):
    client.force_login(cast.supervisor_x)
    response = client.post(reverse("case-bulk-assign"), {"collector": cast.collector_a.pk}, follow=True)
    assert "Select at least one case." in response.content.decode()
    response = client.post(reverse("case-bulk-assign"), {"case": ["1"], "collector": cast.collector_b.pk}, follow=True)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


# --- auto-assign ---------------------------------------------------------------------------


def _loads(*collectors):
    return [Case.objects.open().filter(assigned_collector=c).count() for c in collectors]


def test_auto_assign_balances_by_current_workload(cast, client, case_a):
    # collector_a already carries case_a: the six new cases even the load out.
    for _ in range(6):
        _open(cast)
    _open(cast, branch=cast.branch_b, team=cast.team_y, supervisor=cast.supervisor_y)
    client.force_login(cast.supervisor_x)
    response = client.post(reverse("case-auto-assign"), follow=True)
    html = response.content.decode()
    assert "Auto-assigned 6 cases." in html
    # A2 (empty) first, then alternating; equal loads go to the earlier username.
    assert _loads(cast.collector_a, cast.collector_a2) == [4, 3]
    # The message says who got what (3 new each) and leads on to the workload.
    names = sorted(u.get_full_name() or u.username for u in (cast.collector_a, cast.collector_a2))
    assert f"{names[0]}: 3; {names[1]}: 3" in html
    assert f'<a class="alert-link" href="{reverse("workload")}">See the workload</a>' in html
    assert not Case.objects.filter(team=cast.team_x, assigned_collector__isnull=True).exists()
    assert Case.objects.filter(team=cast.team_y, assigned_collector__isnull=True).count() == 1
    assert AuditLog.objects.filter(action="case.auto_assign").exists()


def test_auto_assign_prefers_the_region_within_the_slack(cast):
    # A Wuxi-based collector in team X (Suzhou branch): Suzhou collectors get Suzhou cases
    # until they carry REGION_SLACK more than the Wuxi collector.
    outsider = UserFactory(username="collector_wx", role=Role.COLLECTOR, team=cast.team_x, region="无锡")
    cases = [_open(cast) for _ in range(8)]
    result = services.cases_auto_assign(actor=cast.supervisor_x)
    assert len(result.done) == 8
    loads = dict(zip(("a", "a2", "wx"), _loads(cast.collector_a, cast.collector_a2, outsider), strict=True))
    # The outsider gets a case only once the Suzhou collectors carry REGION_SLACK more.
    assert loads == {"a": 4, "a2": 3, "wx": 1}
    # Deterministic: the first (most urgent) two went to the Suzhou collectors, by username.
    first_two = sorted(cases, key=lambda c: (-c.priority_score, c.opened_at, c.pk))[:2]
    assert {Case.objects.get(pk=c.pk).assigned_collector for c in first_two} == {cast.collector_a, cast.collector_a2}


def test_auto_assign_uses_the_borrowers_address_city(cast):
    outsider = UserFactory(username="collector_wx", role=Role.COLLECTOR, team=cast.team_x, region="无锡")
    case = _open(cast)
    BorrowerAddress.objects.filter(borrower=case.account.borrower).update(text="无锡市滨湖区 1 号")
    services.cases_auto_assign(actor=cast.supervisor_x)
    case.refresh_from_db()
    assert case.assigned_collector == outsider


def test_auto_assign_skips_inactive_collectors_and_reports_a_team_without_any(cast):
    cast.collector_a.is_active = False
    cast.collector_a.save(update_fields=["is_active"])
    case = _open(cast)
    services.cases_auto_assign(actor=cast.supervisor_x)
    case.refresh_from_db()
    assert case.assigned_collector == cast.collector_a2
    cast.collector_a2.is_active = False
    cast.collector_a2.save(update_fields=["is_active"])
    second = _open(cast)
    result = services.cases_auto_assign(actor=cast.supervisor_x)
    assert result.done == [] and result.skipped[0][0] == str(second)


def test_pick_collector_tie_breaks_are_deterministic(cast):
    case = _open(cast)
    collectors = services.team_collectors_with_load([cast.team_x])
    load = {c.pk: 0 for c in collectors}
    assert services.pick_collector(case, collectors, load) == cast.collector_a
    assert services.pick_collector(case, collectors[::-1], load) == cast.collector_a
    load[cast.collector_a.pk] = 1
    assert services.pick_collector(case, collectors, load) == cast.collector_a2


# --- workload ------------------------------------------------------------------------------


def test_workload_counts_open_cases_by_stage_and_overdue(cast, client, case_in_stage):
    case_in_stage(Stage.VISIT)
    extra = _open(cast, amount="1000.00")
    case_assign(case=extra, collector=cast.collector_a, actor=cast.supervisor_x)
    closed = _open(cast, amount="7777.00")
    case_assign(case=closed, collector=cast.collector_a, actor=cast.supervisor_x)
    case_transition(case=closed, target=Stage.CLOSED, actor=cast.supervisor_x, close_reason="written_off")
    other = _open(cast, branch=cast.branch_b, team=cast.team_y, supervisor=cast.supervisor_y)
    case_assign(case=other, collector=cast.collector_b, actor=cast.supervisor_y)
    client.force_login(cast.supervisor_x)
    response = client.get(reverse("workload"))
    assert response.status_code == 200
    rows = {row.username: row for row in response.context["rows"]}
    assert set(rows) == {"collector_a", "collector_a2"}
    a = rows["collector_a"]
    stages = [s for s, _ in response.context["stages"]]
    assert dict(zip(stages, a.by_stage, strict=True)) == {
        "screening": 1,
        "preparation": 0,
        "visit": 1,
        "negotiation": 0,
        "follow_up": 0,
    }
    assert a.open_total == 2
    assert a.overdue_total == Decimal("6000.00")
    assert rows["collector_a2"].open_total == 0 and rows["collector_a2"].overdue_total == Decimal("0.00")
    client.force_login(cast.manager)
    rows = {row.username for row in client.get(reverse("workload")).context["rows"]}
    assert rows == {"collector_a", "collector_a2", "collector_b"}


def test_workload_query_count_is_constant(cast, client):
    client.force_login(cast.manager)
    counts = []
    for total in (5, 50):
        while Case.objects.count() < total:
            case = _open(cast)
            case_assign(case=case, collector=cast.collector_a, actor=cast.supervisor_x)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("workload"))
        assert {r.username: r.open_total for r in response.context["rows"]}["collector_a"] == total
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_workload_and_assignments_query_counts_are_bounded(cast, client, django_assert_max_num_queries):
    for _ in range(50):
        _open(cast)
    client.force_login(cast.supervisor_x)
    with django_assert_max_num_queries(6):
        assert client.get(reverse("workload")).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(reverse("assignments")).status_code == 200
