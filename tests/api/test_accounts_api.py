import pytest
from django.urls import reverse

from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_accounts_are_scoped_and_pii_is_masked(api, cast, case_a):
    AccountFactory(branch=cast.branch_b)
    body = api(cast.supervisor_x).get(reverse("api:account-list")).json()
    assert [a["id"] for a in body["results"]] == [case_a.account_id]
    borrower = body["results"][0]["borrower"]
    assert borrower["national_id_masked"] == "3210**********123X"
    assert borrower["phone_masked"] == "138****5678"
    assert "13812345678" not in str(body) and "32100219900101123X" not in str(body)
    assert api(cast.collector_b).get(reverse("api:account-detail", args=[case_a.account_id])).status_code == 404


def test_account_filters(api, cast):
    AccountFactory(branch=cast.branch_a, overdue_amount="100.00")
    big = AccountFactory(branch=cast.branch_a, overdue_amount="90000.00")
    client = api(cast.manager)
    results = client.get(reverse("api:account-list"), {"min_overdue": "50000"}).json()["results"]
    assert [a["id"] for a in results] == [big.pk]
    assert client.get(reverse("api:account-list"), {"branch": "WX01"}).json()["results"] == []
    assert client.get(reverse("api:account-list"), {"min_overdue": "abc"}).status_code == 400
