"""An account's risk on the accounts API and the screening list, and screening's expected-recovery order:
probability of payment (1 - risk) x overdue amount, unscored accounts last, the seed's rule still the default."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Value
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from collections_app.models import DelinquentAccount
from collections_app.services.screening import account_refresh_screening_key
from credentials.services import token_pair_obtain
from risk.models import RiskScore, Statement
from risk.scoring import accounts_refresh_payment_probability
from tests.factories import AccountFactory
from tests.risk.helpers import PERIOD, a_model

pytestmark = pytest.mark.django_db

TIMES = "\u00d7"
FACTORS = [{"feature": "pay_ratio_3m", "value": 0.2, "contribution": 0.8}]


def _api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_obtain(user=user).access}")
    return client


def _overdue(branch, amount: str, *, dpd: int = 45) -> DelinquentAccount:
    account = AccountFactory(
        branch=branch, overdue_amount=Decimal(amount), overdue_since=timezone.localdate() - dt.timedelta(days=dpd)
    )
    account_refresh_screening_key(account=account)
    return account


def _score(model, account, score: float, *, period=PERIOD, current=True, factors=FACTORS) -> None:
    Statement.objects.create(account=account, period_end=period, balance=5000, amount_due=500, amount_paid=100, dpd=45)
    RiskScore.objects.create(
        account=account, model=model, period_end=period, score=score, is_current=current, dpd=45, factors=factors
    )
    accounts_refresh_payment_probability(id_range=(account.pk, account.pk))


@pytest.fixture
def book(cast):
    """Five overdue accounts of branch A at the same DPD: three scored, two not; one of branch B, scored."""
    model = a_model()
    accounts = {
        "a": _overdue(cast.branch_a, "1000.00"),  # 0.8 x 1000 = 800
        "b": _overdue(cast.branch_a, "5000.00"),  # 0.1 x 5000 = 500
        "c": _overdue(cast.branch_a, "2000.00"),  # 0.5 x 2000 = 1000
        "d": _overdue(cast.branch_a, "9000.00"),  # no score
        "e": _overdue(cast.branch_a, "100.00"),  # no score
        "other_branch": _overdue(cast.branch_b, "3000.00"),
    }
    for name, score in (("a", 0.2), ("b", 0.9), ("c", 0.5), ("other_branch", 0.0)):
        _score(model, accounts[name], score)
    # An older, no longer current score is never the one shown.
    _score(model, accounts["a"], 0.99, period=PERIOD - dt.timedelta(days=31), current=False)
    return accounts


def _ids(rows) -> list[int]:
    return [row["id"] for row in rows]


def _page_ids(response) -> list[int]:
    return [int(s) for s in re.findall(r'data-account-id="(\d+)"', response.content.decode())]


# --- the accounts API -----------------------------------------------------------------------


def test_accounts_api_shows_the_current_score_and_factors_in_the_readers_language(cast, book):
    client = _api(cast.supervisor_x)
    url = reverse("api:account-detail", args=[book["a"].pk])
    body = client.get(url).json()
    assert body["risk_score"] == 0.2
    label = "Paid share of the amount due, three months"
    assert body["risk_factors"] == [{"feature": "pay_ratio_3m", "label": label, "value": 0.2, "contribution": 0.8}]
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert chinese["risk_factors"][0]["label"] == "近三个月应还金额的已还比例"
    listed = {row["id"]: row for row in client.get(reverse("api:account-list")).json()["results"]}
    assert listed[book["c"].pk]["risk_score"] == 0.5
    assert listed[book["d"].pk]["risk_score"] is None and listed[book["d"].pk]["risk_factors"] == []
    assert book["other_branch"].pk not in listed


def test_accounts_api_without_any_model_gives_null_and_no_factors(cast):
    account = _overdue(cast.branch_a, "100.00")
    body = _api(cast.supervisor_x).get(reverse("api:account-detail", args=[account.pk])).json()
    assert body["risk_score"] is None and body["risk_factors"] == []


def test_accounts_api_query_count_does_not_grow_with_scored_rows(cast, book):
    client = _api(cast.manager)
    url = reverse("api:account-list")
    counts = []
    model = RiskScore.objects.first().model
    for extra in (0, 20):
        for _ in range(extra):
            _score(model, _overdue(cast.branch_a, "10.00"), 0.3)
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert len(client.get(url).json()["results"]) == 6 + extra
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] == 3  # token user, accounts with their scores, primary phones


# --- screening: the columns and the order ---------------------------------------------------


def test_screening_default_order_is_the_seeds_rule_and_unchanged(cast, book):
    rows = _api(cast.supervisor_x).get("/api/v1/screening/").json()["results"]
    assert _ids(rows) == [book[n].pk for n in ("d", "b", "c", "a", "e")]  # same DPD: larger amount first


def test_screening_expected_recovery_order_with_its_parts_and_unscored_last(cast, book):
    rows = _api(cast.supervisor_x).get("/api/v1/screening/", {"sort": "expected_recovery"}).json()["results"]
    assert _ids(rows) == [book[n].pk for n in ("c", "a", "b", "d", "e")]  # then the seed's rule: d before e
    parts = [(r["expected_recovery"], r["payment_probability"], r["overdue_amount"], r["risk_score"]) for r in rows]
    assert parts == [
        ("1000.00", "0.5000", "2000.00", 0.5),
        ("800.00", "0.8000", "1000.00", 0.2),
        ("500.00", "0.1000", "5000.00", 0.9),
        (None, None, "9000.00", None),
        (None, None, "100.00", None),
    ]
    assert rows[0]["risk_factors"][0]["feature"] == "pay_ratio_3m" and rows[3]["risk_factors"] == []


def test_screening_expected_recovery_pages_forward_and_back_across_the_unscored(cast, book):
    client = _api(cast.supervisor_x)
    seen, url, pages = [], "/api/v1/screening/?sort=expected_recovery&page_size=2", []
    while url:
        body = client.get(url).json()
        pages.append(body)
        seen += _ids(body["results"])
        url = body["next"]
    assert seen == [book[n].pk for n in ("c", "a", "b", "d", "e")]
    back = client.get(pages[-1]["previous"]).json()
    assert _ids(back["results"]) == _ids(pages[-2]["results"])
    back = client.get(pages[1]["previous"]).json()
    assert _ids(back["results"]) == _ids(pages[0]["results"])
    # A cursor of one order is no cursor of the other.
    priority_cursor = client.get("/api/v1/screening/?page_size=2").json()["next"].split("after=")[1]
    assert client.get(f"/api/v1/screening/?sort=expected_recovery&after={priority_cursor}").status_code == 404


def test_screening_sort_must_be_one_of_the_orders(cast, book):
    response = _api(cast.supervisor_x).get("/api/v1/screening/", {"sort": "risk"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and list(body["errors"]) == ["sort"]


def test_screening_page_shows_risk_and_expected_recovery_and_sorts_by_it(client, cast, book):
    client.force_login(cast.supervisor_x)
    default = client.get(reverse("screening"))
    assert _page_ids(default) == [book[n].pk for n in ("d", "b", "c", "a", "e")]
    response = client.get(reverse("screening"), {"sort": "expected_recovery"})
    assert _page_ids(response) == [book[n].pk for n in ("c", "a", "b", "d", "e")]
    html = response.content.decode()
    assert re.findall(r'data-recovery="([^"]*)"', html) == ["1000.00", "800.00", "500.00", "", ""]
    for parts in ("50% {} ¥2,000.00", "80% {} ¥1,000.00", "10% {} ¥5,000.00"):
        assert parts.format(TIMES) in html
    assert "Paid share of the amount due, three months" in html
    assert html.count('data-risk="">—</td>') == 2 and html.count('data-recovery="">—</td>') == 2
    bad = client.get(reverse("screening"), {"sort": "nonsense"})
    assert bad.status_code == 200 and _page_ids(bad) == _page_ids(default)


def test_screening_page_in_chinese_names_the_new_column_and_order(client, cast, book):
    client.force_login(cast.supervisor_x)
    html = client.get(reverse("screening"), {"sort": "expected_recovery"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = html.content.decode()
    assert "预期回收" in html and "近三个月应还金额的已还比例" in html


def test_other_branch_supervisor_sees_only_their_accounts_in_either_order(cast, book):
    for sort in ("priority", "expected_recovery"):
        rows = _api(cast.supervisor_y).get("/api/v1/screening/", {"sort": sort}).json()["results"]
        assert _ids(rows) == [book["other_branch"].pk]
        rows = _api(cast.supervisor_x).get("/api/v1/screening/", {"sort": sort}).json()["results"]
        assert book["other_branch"].pk not in _ids(rows)


@pytest.mark.parametrize("sort", ["priority", "expected_recovery"])
def test_screening_page_query_count_is_the_same_in_either_order_and_for_any_number_of_rows(client, cast, book, sort):
    client.force_login(cast.supervisor_x)
    model = RiskScore.objects.first().model
    counts = []
    for extra in (0, 25):
        for _ in range(extra):
            _score(model, _overdue(cast.branch_a, "10.00"), 0.3)
        client.get(reverse("screening"), {"sort": sort})
        with CaptureQueriesContext(connection) as ctx:
            assert len(_page_ids(client.get(reverse("screening"), {"sort": sort}))) == 5 + extra
        counts.append(len(ctx.captured_queries))
    assert counts == [4, 4]  # session, user, branches for the filter, the page's rows with their scores


def test_opening_the_top_in_expected_recovery_order_opens_the_best_first(client, cast, book, monkeypatch):
    from collections_app.services import screening as services

    monkeypatch.setattr(services, "OPEN_BATCH_LIMIT", 2)
    client.force_login(cast.supervisor_x)
    client.post(reverse("screening-open"), {"scope": "all", "sort": "expected_recovery"})
    opened = set(DelinquentAccount.objects.filter(has_open_case=True).values_list("pk", flat=True))
    assert opened == {book["c"].pk, book["a"].pk}


def test_case_page_shows_the_score_and_its_factors(client, cast, book):
    from collections_app.services.cases import case_open

    case = case_open(account=book["a"], actor=cast.supervisor_x, team=cast.team_x)
    client.force_login(cast.supervisor_x)
    html = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    panel = html[html.index('data-testid="risk-score"') :]
    assert "20%" in panel[:400] and "Paid share of the amount due, three months" in panel[:1200]


def test_the_stored_payment_probability_decides_expected_recovery_even_without_a_score(cast, book):
    from collections_app.account_risk import accounts_store_payment_probability

    accounts_store_payment_probability(
        accounts=DelinquentAccount.objects.filter(branch=cast.branch_a), probability=Value(0.25)
    )
    rows = _api(cast.supervisor_x).get("/api/v1/screening/", {"sort": "expected_recovery"}).json()["results"]
    # 0.25 for every account, scored or not: the larger overdue amount first.
    assert [(r["id"], r["payment_probability"], r["expected_recovery"]) for r in rows] == [
        (book["d"].pk, "0.2500", "2250.00"),
        (book["b"].pk, "0.2500", "1250.00"),
        (book["c"].pk, "0.2500", "500.00"),
        (book["a"].pk, "0.2500", "250.00"),
        (book["e"].pk, "0.2500", "25.00"),
    ]


def test_expected_recovery_follows_a_change_of_the_overdue_amount_and_of_the_score(cast, book):
    account = book["a"]  # 0.8 x 1000 = 800
    DelinquentAccount.objects.filter(pk=account.pk).update(overdue_amount=Decimal("3000.00"))
    assert DelinquentAccount.objects.get(pk=account.pk).recovery_key == pytest.approx(2400.0)
    rows = _api(cast.supervisor_x).get("/api/v1/screening/", {"sort": "expected_recovery"}).json()["results"]
    assert _ids(rows)[0] == account.pk
    RiskScore.objects.filter(account=account, is_current=True).update(score=0.9)
    accounts_refresh_payment_probability(id_range=(account.pk, account.pk))
    assert DelinquentAccount.objects.get(pk=account.pk).recovery_key == pytest.approx(300.0)
    RiskScore.objects.filter(account=account).update(is_current=False)
    accounts_refresh_payment_probability()
    stored = DelinquentAccount.objects.get(pk=account.pk)
    assert stored.payment_probability is None and stored.recovery_key == -1.0  # sorts after every real one


def test_the_expected_recovery_page_reads_the_stored_column(cast, book):
    with CaptureQueriesContext(connection) as ctx:
        _api(cast.supervisor_x).get("/api/v1/screening/", {"sort": "expected_recovery"})
    page = next(q["sql"] for q in ctx.captured_queries if "ORDER BY" in q["sql"] and "overdue_amount" in q["sql"])
    order = page[page.rindex("ORDER BY") :]
    assert '"recovery_key" DESC' in order and "CAST" not in order.upper()
