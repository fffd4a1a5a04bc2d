import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from collections_app.models import AuditLog, Case, CaseEvent, Stage
from collections_app.services.cases import case_transition
from tests.factories import PASSWORD, AccountFactory, CaseFactory

pytestmark = pytest.mark.django_db


def test_token_endpoint_exchanges_credentials_for_a_token_that_authenticates(cast, case_a):
    client = APIClient()
    response = client.post(reverse("api:token"), {"username": "collector_a", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer" and response.json()["expires_in"] == 900
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    listing = client.get(reverse("api:case-list"))
    assert listing.status_code == 200
    assert [c["id"] for c in listing.json()["results"]] == [case_a.pk]


def test_token_endpoint_refuses_bad_credentials_with_json_errors(cast):
    response = APIClient().post(reverse("api:token"), {"username": "collector_a", "password": "nope"}, format="json")
    assert response.status_code == 401  # well formed, signs nobody in; no token is issued
    body = response.json()
    assert body["detail"] and body["code"] == "invalid_credentials" and "access" not in body
    nobody = APIClient().post(reverse("api:token"), {}, format="json")
    assert nobody.status_code == 401 and nobody.json()["code"] == "not_authenticated"
    half = APIClient().post(reverse("api:token"), {"username": "collector_a"}, format="json")
    assert half.status_code == 401 and set(half.json()["errors"]) == {"password"}


def test_anonymous_and_bad_token_are_refused_without_a_redirect(cast):
    assert APIClient().get(reverse("api:case-list")).status_code in (401, 403)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = client.get(reverse("api:case-list"))
    assert response.status_code == 401 and response.json()["detail"]
    assert response.json()["code"] == "token_invalid" and response["WWW-Authenticate"].startswith("Bearer")


def test_session_authentication_works_too(client, cast, case_a):
    client.force_login(cast.supervisor_x)
    assert client.get(reverse("api:case-detail", args=[case_a.pk])).status_code == 200


def test_collector_sees_own_cases_and_another_collectors_case_is_404(api, cast, case_a):
    other = CaseFactory(
        account=AccountFactory(branch=cast.branch_b), team=cast.team_y, assigned_collector=cast.collector_b
    )
    client = api(cast.collector_a)
    assert [c["id"] for c in client.get(reverse("api:case-list")).json()["results"]] == [case_a.pk]
    assert client.get(reverse("api:case-detail", args=[other.pk])).status_code == 404
    assert api(cast.collector_a2).get(reverse("api:case-detail", args=[case_a.pk])).status_code == 404
    assert client.post(reverse("api:case-transition", args=[other.pk]), {"target": "preparation"}).status_code == 404
    assert client.get(reverse("api:case-detail", args=[999999])).status_code == 404


def test_api_and_browser_see_the_same_cases(api, client, cast, case_a):
    CaseFactory(account=AccountFactory(branch=cast.branch_b), team=cast.team_y)
    for user in (cast.collector_a, cast.supervisor_x, cast.supervisor_y, cast.manager):
        ids = {c["id"] for c in api(user).get(reverse("api:case-list")).json()["results"]}
        assert ids == set(Case.objects.visible_to(user).values_list("id", flat=True))


def test_case_payload_has_masked_account_data_and_allowed_transitions(api, cast, case_a):
    body = api(cast.collector_a).get(reverse("api:case-detail", args=[case_a.pk])).json()
    assert body["stage"] == "screening"
    assert body["assigned_collector"] == {"id": cast.collector_a.pk, "username": "collector_a"}
    assert body["account"]["account_no"] == case_a.account.account_no
    assert {t["target"] for t in body["allowed_transitions"]} >= {"preparation", "closed"}


def test_case_list_labels_each_move_by_its_own_stage_in_the_readers_language(api, cast, case_a):
    """Into visit is "Revisit" from follow-up and "Back to visit" from negotiation, on one page of the list."""
    other = CaseFactory(
        account=AccountFactory(branch=cast.branch_a), team=cast.team_x, assigned_collector=cast.collector_a
    )
    Case.objects.filter(pk=case_a.pk).update(stage=Stage.FOLLOW_UP)
    Case.objects.filter(pk=other.pk).update(stage=Stage.NEGOTIATION)
    client = api(cast.collector_a)
    for language, labels in (("en", ("Revisit", "Back to visit")), ("zh-hans", ("再次走访", "退回实地走访"))):
        results = client.get(reverse("api:case-list"), HTTP_ACCEPT_LANGUAGE=language).json()["results"]
        into_visit = {
            c["id"]: [t["label"] for t in c["allowed_transitions"] if t["target"] == "visit"] for c in results
        }
        assert into_visit == {case_a.pk: [labels[0]], other.pk: [labels[1]]}


def test_list_filters_and_cursor_pagination(api, cast, case_a, case_in_stage):
    for _ in range(3):
        CaseFactory(account=AccountFactory(branch=cast.branch_a), team=cast.team_x)
    client = api(cast.supervisor_x)
    first = client.get(reverse("api:case-list"), {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 2
    assert not {c["id"] for c in first["results"]} & {c["id"] for c in second["results"]}
    unassigned = client.get(reverse("api:case-list"), {"unassigned": "true"}).json()["results"]
    assert len(unassigned) == 3
    mine = client.get(reverse("api:case-list"), {"assigned_collector": cast.collector_a.pk}).json()["results"]
    assert [c["id"] for c in mine] == [case_a.pk]
    bad = client.get(reverse("api:case-list"), {"stage": "nowhere"})
    assert bad.status_code == 400 and "stage" in bad.json()["errors"]
    assert client.get(reverse("api:case-list"), {"cursor": "garbage"}).status_code == 404


def test_list_query_count_is_constant(api, cast, case_a, django_assert_max_num_queries):
    for _ in range(10):
        CaseFactory(account=AccountFactory(branch=cast.branch_a), team=cast.team_x, assigned_collector=cast.collector_a)
    client = api(cast.supervisor_x)
    with django_assert_max_num_queries(6):
        assert len(client.get(reverse("api:case-list")).json()["results"]) == 11
    with django_assert_max_num_queries(6):
        assert client.get(reverse("api:account-list")).status_code == 200


def test_supervisor_opens_cases_from_accounts(api, cast):
    accounts = [AccountFactory(branch=cast.branch_a) for _ in range(2)]
    response = api(cast.supervisor_x).post(
        reverse("api:case-list"), {"account_ids": [a.pk for a in accounts]}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert [c["account"]["id"] for c in response.json()] == [a.pk for a in accounts]
    assert Case.objects.filter(team=cast.team_x).count() == 2
    again = api(cast.supervisor_x).post(reverse("api:case-list"), {"account_ids": [accounts[0].pk]}, format="json")
    assert again.status_code == 409 and "already has an open case" in again.json()["detail"]


def test_opening_is_all_or_nothing_and_scoped(api, cast):
    mine, theirs = AccountFactory(branch=cast.branch_a), AccountFactory(branch=cast.branch_b)
    response = api(cast.supervisor_x).post(
        reverse("api:case-list"), {"account_ids": [mine.pk, theirs.pk]}, format="json"
    )
    assert response.status_code == 404  # not one the supervisor may see
    assert str(theirs.pk) in response.json()["errors"]["account_ids"][0]
    assert not Case.objects.exists()


@pytest.mark.parametrize("who", ["collector_a", "manager"])
def test_collectors_and_managers_cannot_open_or_assign(api, cast, case_a, who):
    client = api(getattr(cast, who))
    account = AccountFactory(branch=cast.branch_a)
    assert client.post(reverse("api:case-list"), {"account_ids": [account.pk]}, format="json").status_code == 403
    response = client.post(
        reverse("api:case-assign", args=[case_a.pk]), {"collector": cast.collector_a2.pk}, format="json"
    )
    assert response.status_code == 403 and response.json()["detail"]


def test_supervisor_reassigns_with_a_reason(api, cast, case_a):
    client = api(cast.supervisor_x)
    url = reverse("api:case-assign", args=[case_a.pk])
    no_reason = client.post(url, {"collector": cast.collector_a2.pk}, format="json")
    assert no_reason.status_code == 409 and "reason" in no_reason.json()["detail"]
    response = client.post(url, {"collector": cast.collector_a2.pk, "reason": "leave"}, format="json")
    assert response.status_code == 200
    assert response.json()["assigned_collector"]["id"] == cast.collector_a2.pk
    assert CaseEvent.objects.filter(case=case_a, kind="reassigned").exists()
    wrong_team = client.post(url, {"collector": cast.collector_b.pk, "reason": "x"}, format="json")
    assert wrong_team.status_code == 403
    unknown = client.post(url, {"collector": 10**12}, format="json")
    assert unknown.status_code == 404 and "collector" in unknown.json()["errors"]


def test_collector_transitions_own_case_and_refusals_are_json(api, cast, case_a):
    client = api(cast.collector_a)
    url = reverse("api:case-transition", args=[case_a.pk])
    response = client.post(url, {"target": "preparation", "note": "ready"}, format="json")
    assert response.status_code == 200 and response.json()["stage"] == "preparation"
    assert AuditLog.objects.filter(action="case.transition").exists()
    refused = client.post(url, {"target": "follow_up"}, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "transition" and refused.json()["errors"] == {}
    invalid = client.post(url, {"target": "moon"}, format="json")
    assert invalid.status_code == 400 and "target" in invalid.json()["errors"]
    write_off = client.post(url, {"target": "closed", "close_reason": "written_off"}, format="json")
    assert write_off.status_code == 409


def test_stale_transition_is_409(api, cast, case_a, monkeypatch):
    client = api(cast.collector_a)
    from collections_app.api import views

    original = views.case_transition

    def concurrent_first(**kwargs):
        # Another request moves the case between this request's read and its write.
        case_transition(case=Case.objects.get(pk=case_a.pk), target=Stage.PREPARATION, actor=cast.collector_a)
        return original(**kwargs)

    monkeypatch.setattr(views, "case_transition", concurrent_first)
    response = client.post(reverse("api:case-transition", args=[case_a.pk]), {"target": "preparation"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "StaleObject"


def test_malformed_json_is_a_400_not_a_500(api, cast, case_a):
    response = api(cast.collector_a).post(
        reverse("api:case-transition", args=[case_a.pk]), "{not json", content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["detail"]


def test_wrong_method_is_405(api, cast, case_a):
    client = api(cast.supervisor_x)
    assert client.delete(reverse("api:case-detail", args=[case_a.pk])).status_code == 405
    assert client.get(reverse("api:case-assign", args=[case_a.pk])).status_code == 405


def test_schema_and_docs_for_signed_in_users_only(api, client, cast):
    assert api(cast.collector_a).get(reverse("api:schema"), {"format": "json"}).json()["openapi"].startswith("3.")
    assert APIClient().get(reverse("api:schema")).status_code == 401
    client.force_login(cast.collector_a)
    docs = client.get(reverse("api:docs"))
    assert docs.status_code == 200
    assert b"<script>" not in docs.content  # the CSP allows no inline script
    assert b"/static/drf_spectacular_sidecar/" in docs.content


def test_unknown_api_path_is_a_json_404(api, cast):
    response = api(cast.collector_a).get("/api/v1/cases/-3/")
    assert response.status_code == 404 and response.json()["detail"]
