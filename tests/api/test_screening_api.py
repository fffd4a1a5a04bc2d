import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from collections_app.selectors.screening import screening_page
from collections_app.services.screening import accounts_refresh_screening_keys
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/screening/"


@pytest.fixture
def accounts(cast):
    today = timezone.localdate()
    made = [
        AccountFactory(
            branch=cast.branch_a,
            overdue_amount=Decimal(amount),
            overdue_since=today - dt.timedelta(days=dpd),
            product=product,
        )
        for amount, dpd, product in (
            ("1000.00", 10, "personal_consumer"),
            ("50000.00", 200, "mortgage"),
            ("8000.00", 75, "auto"),
            ("300.00", 400, "personal_consumer"),
        )
    ]
    AccountFactory(branch=cast.branch_b, overdue_amount=Decimal("99999.00"))
    AccountFactory(branch=cast.branch_a, overdue_amount=Decimal("0.00"), overdue_since=None)  # current
    accounts_refresh_screening_keys()
    return made


def test_supervisor_gets_the_pages_rows_with_score_parts(api, cast, case_a, accounts):
    body = api(cast.supervisor_x).get(URL).json()
    rows = body["results"]
    page = screening_page(cast.supervisor_x, {})
    assert [r["id"] for r in rows] == [a.pk for a in page.rows]  # the same list as the screening page
    assert case_a.account_id not in {r["id"] for r in rows}  # an open case: not screened again
    assert {r["branch"] for r in rows} == {"SZ01"}
    scores = [Decimal(r["score"]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    for row in rows:
        assert Decimal(row["score"]) == sum(Decimal(v) for v in row["score_parts"].values())
        assert set(row["score_parts"]) == {"dpd", "amount", "broken_promises", "no_contact"}
    top = rows[0]
    assert (top["overdue_amount"], top["dpd"], top["aging_bucket"], top["loan_class"]) == (
        "300.00",
        400,
        "181+",
        "loss",
    )
    assert "national_id" not in str(body) and "13812345678" not in str(body)
    assert body["today"] == page.today.isoformat() and body["next"] is None


def test_collectors_are_refused_and_managers_see_every_branch(api, cast, accounts):
    refused = api(cast.collector_a).get(URL)
    assert refused.status_code == 403 and refused.json()["detail"]
    assert {r["branch"] for r in api(cast.manager).get(URL).json()["results"]} == {"SZ01", "WX01"}
    assert {r["branch"] for r in api(cast.supervisor_y).get(URL).json()["results"]} == {"WX01"}


def test_filters_as_query_parameters_and_bad_filters_are_400(api, cast, accounts):
    client = api(cast.supervisor_x)

    def ids(**params):
        response = client.get(URL, params)
        assert response.status_code == 200, response.json()
        return {r["id"] for r in response.json()["results"]}

    assert ids(product="mortgage") == {accounts[1].pk}
    assert ids(bucket="61-90") == {accounts[2].pk}
    assert ids(loan_class="loss") == {accounts[3].pk}
    assert ids(dpd_min=70, dpd_max=250) == {accounts[1].pk, accounts[2].pk}
    assert ids(amount_min="5000") == {accounts[1].pk, accounts[2].pk}
    assert ids(q=accounts[0].account_no) == {accounts[0].pk}
    assert ids(branch="SZ01") == {a.pk for a in accounts}
    for params, field, status in (
        ({"branch": "WX01"}, "branch", 404),  # not one of this supervisor's branches
        ({"dpd_min": "ten"}, "dpd_min", 400),
        ({"amount_min": "-1"}, "amount_min", 400),
        ({"product": ""}, "product", 400),
        ({"dpd_min": 90, "dpd_max": 10}, "dpd_max", 409),  # well formed, but an empty range
        ({"bucket": "current"}, "bucket", 400),
        ({"page_size": 0}, "page_size", 400),
        ({"page_size": "null"}, "page_size", 400),
    ):
        response = client.get(URL, params)
        assert response.status_code == status, params
        assert field in response.json()["errors"], response.json()


def test_keyset_pages_walk_forward_and_back_without_overlap(api, cast, accounts):
    client = api(cast.supervisor_x)
    first = client.get(URL, {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"] and first["previous"] is None
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 2 and second["next"] is None and second["previous"]
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}
    back = client.get(second["previous"]).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in first["results"]]
    assert client.get(URL, {"after": "garbage"}).status_code == 404


def test_query_count_does_not_grow_with_the_page(api, cast, accounts, django_assert_max_num_queries):
    for _ in range(20):
        AccountFactory(branch=cast.branch_a)
    with django_assert_max_num_queries(6):
        assert len(api(cast.supervisor_x).get(URL).json()["results"]) == 24
