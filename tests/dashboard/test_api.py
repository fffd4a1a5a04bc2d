"""The JSON contract of GET /api/v1/dashboard/."""

import re

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from credentials.services import token_pair_obtain

pytestmark = pytest.mark.django_db

URL = "/api/v1/dashboard/"
MONEY = re.compile(r"^-?\d+\.\d{2}$")


def _params(dataset) -> dict:
    return {"period": "custom", "date_from": dataset.period.date_from.isoformat(), "date_to": dataset.today.isoformat()}


def test_contract_keys_types_and_order(dataset, cast):
    client = APIClient()
    client.force_authenticate(cast.supervisor_x)
    response = client.get(URL, _params(dataset))
    assert response.status_code == 200
    body = response.json()
    assert list(body) == [
        "as_of",
        "state_taken_at",
        "portfolio",
        "aging",
        "classification",
        "stages",
        "recovery",
        "promises",
        "collectors",
        "satisfaction",
    ]
    assert body["as_of"] == dataset.today.isoformat()
    assert body["state_taken_at"] is None  # no state tally taken yet: computed live
    assert body["portfolio"] == {"accounts": 15, "outstanding_balance": "14500.00", "overdue_amount": "2001.00"}
    assert [row["bucket"] for row in body["aging"]] == ["1-30", "31-60", "61-90", "91-180", "181+"]
    assert body["aging"][0] == {"bucket": "1-30", "accounts": 2, "overdue_amount": "32.00"}
    assert [row["class"] for row in body["classification"]] == [
        "normal",
        "special_mention",
        "substandard",
        "doubtful",
        "loss",
    ]
    assert all(set(row) == {"class", "accounts", "overdue_amount"} for row in body["classification"])
    assert body["stages"] == {
        "screening": 1,
        "preparation": 0,
        "visit": 0,
        "negotiation": 0,
        "follow_up": 1,
        "closed": 1,
    }
    assert body["recovery"] == {"recovered_amount": "100.00", "recovery_rate": round(100 / 153, 4)}
    assert body["promises"] == {"due": 4, "kept": 2, "partially_kept": 1, "broken": 1, "kept_rate": 0.5}
    trend = body["collectors"][0].pop("quality_trend")
    assert [point["score"] for point in trend] == [None] * 6 and trend[-1]["month"].endswith("-01")
    assert body["collectors"][0] == {
        "username": "collector_a",
        "cases": 2,
        "visits": 2,
        "promises": 5,
        "kept_rate": 0.6667,
        "recovered_amount": "50.00",
        "quality": None,
        "csat": None,
        "responses": 0,
        "complaints": 0,
        "complaints_per_100_visits": 0.0,
    }
    assert body["satisfaction"]["csat"] is None and body["satisfaction"]["responses"] == 0
    amounts = [
        body["portfolio"]["outstanding_balance"],
        body["portfolio"]["overdue_amount"],
        body["recovery"]["recovered_amount"],
    ]
    amounts += [row["overdue_amount"] for row in body["aging"] + body["classification"]]
    amounts += [row["recovered_amount"] for row in body["collectors"]]
    assert all(isinstance(a, str) and MONEY.match(a) for a in amounts)
    assert isinstance(body["recovery"]["recovery_rate"], float)


def test_token_auth_and_scoping_through_query_params(dataset, cast):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_obtain(user=cast.supervisor_x).access}")
    own = client.get(URL)
    assert own.status_code == 200
    assert own.json()["portfolio"]["accounts"] == 15
    other = client.get(URL, {"branch": cast.branch_b.pk})
    assert other.status_code == 200
    assert other.json()["portfolio"] == {"accounts": 0, "outstanding_balance": "0.00", "overdue_amount": "0.00"}
    assert other.json()["collectors"] == []


def test_session_auth_works_for_managers(client, dataset, cast):
    client.force_login(cast.manager)
    response = client.get(URL, {"team": cast.team_y.pk})
    assert response.status_code == 200
    assert response.json()["portfolio"]["accounts"] == 2


def test_collector_gets_403_and_anonymous_401_or_403(cast):
    client = APIClient()
    assert client.get(URL).status_code in (401, 403)
    client.force_authenticate(cast.collector_a)
    assert client.get(URL).status_code == 403


def test_bad_query_params_are_a_400_and_a_refused_period_a_409(cast):
    client = APIClient()
    client.force_authenticate(cast.manager)
    assert client.get(URL, {"period": "yearly"}).status_code == 400
    assert client.get(URL, {"branch": "abc"}).status_code == 400
    assert client.get(URL, {"branch": ""}).status_code == 400
    # Well formed, but a custom period needs both dates: refused by the rule (409), same error format.
    refused = client.get(URL, {"period": "custom", "date_from": "2020-01-01"})
    assert refused.status_code == 409 and refused.json()["errors"]["non_field_errors"]


def test_empty_portfolio_gives_zeros_in_the_same_shape(cast):
    client = APIClient()
    client.force_authenticate(cast.manager)
    body = client.get(URL).json()
    assert body["portfolio"] == {"accounts": 0, "outstanding_balance": "0.00", "overdue_amount": "0.00"}
    assert [row["overdue_amount"] for row in body["aging"]] == ["0.00"] * 5
    assert body["recovery"] == {"recovered_amount": "0.00", "recovery_rate": 0.0}


def test_schema_documents_the_endpoint():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/dashboard/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"branch", "team", "period", "date_from", "date_to"}
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert set(component["properties"]) == {
        "as_of",
        "state_taken_at",
        "portfolio",
        "aging",
        "classification",
        "stages",
        "recovery",
        "promises",
        "collectors",
        "satisfaction",
    }
