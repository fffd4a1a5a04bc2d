"""Every list endpoint refuses a filter value it cannot take with a 400 in the one error format, never
ignoring it; well-formed values still filter."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        ("/api/v1/accounts/", {"page_size": "null"}, "page_size"),
        ("/api/v1/accounts/", {"page_size": "0"}, "page_size"),
        ("/api/v1/accounts/", {"page_size": "201"}, "page_size"),
        ("/api/v1/accounts/", {"has_open_case": "null"}, "has_open_case"),
        ("/api/v1/accounts/", {"has_open_case": "1"}, "has_open_case"),
        ("/api/v1/accounts/", {"product": ""}, "product"),
        ("/api/v1/accounts/", {"min_overdue": "-1"}, "min_overdue"),
        ("/api/v1/accounts/", {"min_overdue": ""}, "min_overdue"),
        ("/api/v1/cases/", {"is_open": "null"}, "is_open"),
        ("/api/v1/cases/", {"is_open": ""}, "is_open"),
        ("/api/v1/cases/", {"unassigned": "maybe"}, "unassigned"),
        ("/api/v1/cases/", {"team": "0"}, "team"),
        ("/api/v1/cases/", {"team": "1.5"}, "team"),
        ("/api/v1/cases/", {"assigned_collector": ""}, "assigned_collector"),
        ("/api/v1/cases/", {"stage": ""}, "stage"),
        ("/api/v1/cases/", {"account_no": "x" * 41}, "account_no"),
        ("/api/v1/plans/", {"requires_approval": ""}, "requires_approval"),
        ("/api/v1/plans/", {"kind": ""}, "kind"),
        ("/api/v1/promises/", {"case": "1.5"}, "case"),
        ("/api/v1/promises/", {"due_from": ""}, "due_from"),
        ("/api/v1/payments/", {"paid_from": ""}, "paid_from"),
        ("/api/v1/payments/", {"channel": ""}, "channel"),
        ("/api/v1/visits/", {"met": ""}, "met"),
        ("/api/v1/visits/", {"collector": "-1"}, "collector"),
        ("/api/v1/screening/", {"page_size": "null"}, "page_size"),
        ("/api/v1/screening/", {"bucket": ""}, "bucket"),
        ("/api/v1/dashboard/", {"period": ""}, "period"),
        ("/api/v1/dashboard/", {"team": "x"}, "team"),
    ],
)
def test_invalid_filter_value_is_a_400_in_the_error_format(api, cast, url, params, field):
    response = api(cast.supervisor_x).get(url, params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}
    assert body["code"] == "invalid" and body["detail"] and body["errors"][field]


def test_well_formed_filters_still_filter(api, cast, case_a):
    client = api(cast.supervisor_x)
    assert [c["id"] for c in client.get("/api/v1/cases/", {"is_open": "true"}).json()["results"]] == [case_a.pk]
    assert client.get("/api/v1/cases/", {"is_open": "false"}).json()["results"] == []
    assert client.get("/api/v1/cases/", {"account_no": ""}).status_code == 200  # text: blank matches all
    assert len(client.get("/api/v1/cases/", {"page_size": "1", "team": str(cast.team_x.pk)}).json()["results"]) == 1
    assert client.get("/api/v1/accounts/", {"min_overdue": "0.01", "has_open_case": "true"}).status_code == 200


def test_unknown_reference_in_a_filter_is_a_404_and_a_reversed_range_a_409(api, cast):
    client = api(cast.supervisor_x)
    unknown = client.get("/api/v1/dashboard/", {"team": "999999"})
    assert unknown.status_code == 404 and "team" in unknown.json()["errors"]
    custom = client.get("/api/v1/dashboard/", {"period": "custom"})
    assert custom.status_code == 409 and custom.json()["detail"]
    reversed_range = client.get("/api/v1/screening/", {"amount_min": "10", "amount_max": "1"})
    assert reversed_range.status_code == 409 and "amount_max" in reversed_range.json()["errors"]
