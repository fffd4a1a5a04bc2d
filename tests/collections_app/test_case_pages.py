"""The case pages: "my cases", the case page and stage changes from it."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from collections_app.models import Case, CaseEvent, CloseReason, Stage
from collections_app.services.cases import case_transition
from collections_app.workflow import transition_targets
from tests.factories import AccountFactory, CaseFactory
from tests.visits.helpers import DAYTIME
from visits.models import ContactAttempt, Visit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _daytime(time_machine):
    time_machine.move_to(DAYTIME, tick=True)


def _make_cases(cast, n, collector=None, team=None, branch=None, stage=Stage.PREPARATION):
    collector = collector or cast.collector_a
    cases = []
    for i in range(n):
        case = CaseFactory(
            account=AccountFactory(branch=branch or cast.branch_a),
            team=team or cast.team_x,
            assigned_collector=collector,
            stage=stage,
            next_action_due=timezone.now() + dt.timedelta(hours=i) if i % 3 else None,
        )
        CaseEvent.objects.create(case=case, actor=collector, kind=CaseEvent.Kind.NOTE, payload={"note": "x"})
        cases.append(case)
    return cases


def _case_urls(case):
    return [
        ("get", reverse("case-detail", args=[case.pk])),
        ("post", reverse("case-transition", args=[case.pk])),
        ("get", reverse("contact-attempt-create", args=[case.pk])),
        ("post", reverse("contact-attempt-create", args=[case.pk])),
        ("get", reverse("case-preparation", args=[case.pk])),
        ("post", reverse("case-preparation", args=[case.pk])),
        ("get", reverse("visit-create", args=[case.pk])),
        ("post", reverse("visit-create", args=[case.pk])),
    ]


def test_my_cases_lists_own_open_cases_by_next_action_due_nulls_last(client, cast):
    mine = _make_cases(cast, 5)
    closed = CaseFactory(account=AccountFactory(branch=cast.branch_a), team=cast.team_x, stage=Stage.CLOSED)
    closed.assigned_collector = cast.collector_a
    closed.save()
    _make_cases(cast, 2, collector=cast.collector_a2)
    client.force_login(cast.collector_a)
    response = client.get(reverse("case-list"))
    assert response.status_code == 200
    listed = [c.pk for c in response.context["cases"]]
    expected = sorted(mine, key=lambda c: (c.next_action_due is None, c.next_action_due or DAYTIME, c.pk))
    assert listed == [c.pk for c in expected]
    page = response.content.decode()
    assert mine[0].account.borrower.name in page and "DPD" in page


def test_case_list_filters_by_stage(client, cast):
    prep = _make_cases(cast, 2)
    visit = _make_cases(cast, 1, stage=Stage.VISIT)
    client.force_login(cast.collector_a)
    response = client.get(reverse("case-list"), {"stage": Stage.VISIT})
    assert [c.pk for c in response.context["cases"]] == [visit[0].pk]
    response = client.get(reverse("case-list"), {"stage": "bogus"})
    assert {c.pk for c in response.context["cases"]} == {c.pk for c in prep + visit}


def test_supervisor_sees_the_team_and_manager_everything_read_only(client, cast):
    x = _make_cases(cast, 2) + _make_cases(cast, 1, collector=cast.collector_a2)
    y = _make_cases(cast, 2, collector=cast.collector_b, team=cast.team_y, branch=cast.branch_b)
    client.force_login(cast.supervisor_x)
    assert {c.pk for c in client.get(reverse("case-list")).context["cases"]} == {c.pk for c in x}
    client.force_login(cast.manager)
    response = client.get(reverse("case-list"))
    assert {c.pk for c in response.context["cases"]} == {c.pk for c in x + y}
    detail = client.get(reverse("case-detail", args=[y[0].pk])).content.decode()
    assert "data-transition" not in detail and "Close the case" not in detail


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_case_list_query_count_is_constant(client, cast, django_assert_max_num_queries):
    _make_cases(cast, 3)
    client.force_login(cast.collector_a)
    url = reverse("case-list")
    small = _count(client, url)
    _make_cases(cast, 27)
    with django_assert_max_num_queries(small):
        client.get(url)
    assert small <= 12


def test_case_page_query_count_is_constant(client, cast, case_in_stage, django_assert_max_num_queries):
    case = case_in_stage(Stage.VISIT)
    _make_cases(cast, 3)
    client.force_login(cast.collector_a)
    url = reverse("case-detail", args=[case.pk])

    def add_history(start, stop):
        for i in range(start, stop):
            ContactAttempt.objects.create(
                case=case,
                actor=cast.collector_a,
                phone_number=f"1380000{i:04d}",
                result="no_answer",
                attempted_at=DAYTIME - dt.timedelta(days=1, minutes=i),
            )
            Visit.objects.create(
                case=case,
                collector=cast.collector_a,
                checked_in_at=DAYTIME - dt.timedelta(days=i + 1),
                outcome="other",
            )

    add_history(0, 3)
    small = _count(client, url)
    _make_cases(cast, 27)
    add_history(3, 30)
    with django_assert_max_num_queries(small):
        client.get(url)


def test_every_case_url_is_404_across_teams(client, cast, case_in_stage):
    case = case_in_stage(Stage.VISIT)
    for user in (cast.collector_b, cast.supervisor_y, cast.collector_a2):
        client.force_login(user)
        for method, url in _case_urls(case):
            assert getattr(client, method)(url).status_code == 404, (user, method, url)
    client.force_login(cast.collector_a)
    assert client.get(reverse("case-detail", args=[case.pk + 999])).status_code == 404


def test_case_page_shows_masked_borrower_file_timeline_and_exactly_the_allowed_buttons(client, cast, case_in_stage):
    case = case_in_stage(Stage.NEGOTIATION)
    client.force_login(cast.collector_a)
    page = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert "3210**********123X" in page and "32100219900101123X" not in page
    assert "138****5678" in page and "13812345678" not in page
    assert "Stage changed" in page and "Visit → Negotiation" in page
    buttons = transition_targets(case, cast.collector_a)
    moves = re.findall(r'data-transition="(\w+)"', page)
    assert moves == [b["target"] for b in buttons if b["target"] != Stage.CLOSED]
    reasons = re.findall(r'<option value="(\w+)">', page.split('id="close-reason"')[1].split("</select>")[0])
    assert reasons == [b["close_reason"] for b in buttons if b["target"] == Stage.CLOSED]
    assert CloseReason.WRITTEN_OFF not in reasons

    client.force_login(cast.supervisor_x)
    page = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert 'value="written_off"' in page and 'value="legal"' in page


def test_collector_starts_preparation_from_the_case_page(client, cast, case_a):
    client.force_login(cast.collector_a)
    response = client.post(reverse("case-transition", args=[case_a.pk]), {"target": Stage.PREPARATION})
    assert response.status_code == 302 and response.url == case_a.get_absolute_url()
    case_a.refresh_from_db()
    assert case_a.stage == Stage.PREPARATION
    assert client.get(reverse("case-transition", args=[case_a.pk])).status_code == 405


def test_closing_needs_a_reason_and_write_off_is_a_supervisors(client, cast, case_in_stage):
    case = case_in_stage(Stage.FOLLOW_UP)
    url = reverse("case-transition", args=[case.pk])
    client.force_login(cast.collector_a)
    client.post(url, {"target": Stage.CLOSED})
    client.post(url, {"target": Stage.CLOSED, "close_reason": CloseReason.WRITTEN_OFF})
    case.refresh_from_db()
    assert case.stage == Stage.FOLLOW_UP
    client.force_login(cast.supervisor_x)
    response = client.post(url, {"target": Stage.CLOSED, "close_reason": CloseReason.WRITTEN_OFF, "note": "no assets"})
    case.refresh_from_db()
    assert (case.stage, case.close_reason) == (Stage.CLOSED, CloseReason.WRITTEN_OFF)
    event = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.TRANSITION).first()
    assert event.payload == {"note": "no assets", "close_reason": "written_off"}
    assert "Written off" in client.get(response.url).content.decode()


def test_collector_closes_a_paid_case(client, cast, case_in_stage):
    case = case_in_stage(Stage.FOLLOW_UP)
    client.force_login(cast.collector_a)
    client.post(reverse("case-transition", args=[case.pk]), {"target": Stage.CLOSED, "close_reason": "cured"})
    case.refresh_from_db()
    assert (case.stage, case.close_reason) == (Stage.CLOSED, CloseReason.CURED)
    case.account.refresh_from_db()
    assert case.account.has_open_case is False


def test_wrong_stage_transition_shows_a_message_not_an_error(client, cast, case_a):
    client.force_login(cast.collector_a)
    response = client.post(reverse("case-transition", args=[case_a.pk]), {"target": Stage.FOLLOW_UP}, follow=True)
    assert response.status_code == 200
    assert "cannot move" in response.content.decode()
    case_a.refresh_from_db()
    assert case_a.stage == Stage.SCREENING


def test_manager_cannot_fire_transitions(client, cast, case_a):
    client.force_login(cast.manager)
    assert client.post(reverse("case-transition", args=[case_a.pk]), {"target": "preparation"}).status_code == 403
    assert Case.objects.get(pk=case_a.pk).stage == Stage.SCREENING


def test_negotiation_link_only_in_negotiation(client, cast, case_in_stage):
    case = case_in_stage(Stage.VISIT)
    client.force_login(cast.collector_a)
    url = reverse("case-detail", args=[case.pk])
    negotiate = reverse("case-negotiate", args=[case.pk])  # repayment's page, plugged into the case page
    link = f'href="{negotiate}" data-action="negotiate"'
    assert link not in client.get(url).content.decode()
    case_transition(case=case, target=Stage.NEGOTIATION, actor=cast.collector_a)
    assert link in client.get(url).content.decode()


def test_case_list_shows_pending_promises_due(client, cast):
    from repayment.models import PromiseToPay as promise_model

    case, other = _make_cases(cast, 2)
    today = timezone.localdate()
    for due, status in ((today, "pending"), (today - dt.timedelta(days=1), "pending"), (today, "kept")):
        promise_model.objects.create(
            case=case, amount="100.00", due_date=due, grace_days=3, status=status, created_by=cast.collector_a
        )
    promise_model.objects.create(
        case=other, amount="100.00", due_date=today + dt.timedelta(days=5), grace_days=3, created_by=cast.collector_a
    )
    client.force_login(cast.collector_a)
    response = client.get(reverse("case-list"))
    counts = {c.pk: c.promises_due for c in response.context["cases"]}
    assert counts == {case.pk: 2, other.pk: 0}
    assert "2 promises due" in response.content.decode()


def _what_next(html: str) -> str:
    start = html.index('id="actions"')
    return html[start : html.index("</details>", start) if "</details>" in html[start:] else None]


def test_one_primary_action_per_stage_and_no_twin_negotiate_buttons(client, cast, case_in_stage):
    """At the visit the one primary button is Log a visit; in negotiation one way leads to the plan form."""
    client.force_login(cast.collector_a)
    case = case_in_stage(Stage.VISIT)
    html = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert _what_next(html).count('class="btn btn-primary') == 1
    assert "btn btn-sm btn-primary" not in html  # the panel's payment button no longer competes
    assert "Log a visit" in html and "Move to negotiation" in html and "Negotiate a plan" not in html

    case = case_in_stage(Stage.NEGOTIATION)
    html = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert html.count(f'href="{reverse("case-negotiate", args=[case.pk])}"') == 1
    assert _what_next(html).count('class="btn btn-primary') == 1
