import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from collections_app import priority
from collections_app.models import AuditLog, Case, DelinquentAccount, Product
from collections_app.selectors import screening as selectors
from collections_app.services import screening as services
from collections_app.services.cases import case_open
from tests.factories import AccountFactory, BorrowerFactory

pytestmark = pytest.mark.django_db


def _today():
    return timezone.localdate()


def _account(branch, *, dpd=45, amount="5000.00", refresh=True, **extra):
    account = AccountFactory(
        branch=branch,
        overdue_amount=Decimal(amount),
        overdue_since=_today() - dt.timedelta(days=dpd),
        **extra,
    )
    if refresh:
        services.account_refresh_screening_key(account=account)
    return account


def _ids(user, filters=None):
    return list(selectors.screening_accounts(user, filters).values_list("pk", flat=True))


def _page_scores(response) -> list[Decimal]:
    return [Decimal(s) for s in re.findall(r'data-score="([^"]+)"', response.content.decode())]


def _page_ids(response) -> list[int]:
    return [int(s) for s in re.findall(r'data-account-id="(\d+)"', response.content.decode())]


# --- who is on the list ------------------------------------------------------------------


def test_screening_lists_overdue_accounts_without_open_case_visible_to_the_supervisor(cast, client):
    listed = _account(cast.branch_a)
    with_case = _account(cast.branch_a)
    case_open(account=with_case, actor=cast.supervisor_x, team=cast.team_x)
    nothing_overdue = _account(cast.branch_a, amount="0.00")
    other_branch = _account(cast.branch_b)
    client.force_login(cast.supervisor_x)
    response = client.get(reverse("screening"))
    assert response.status_code == 200
    assert _page_ids(response) == [listed.pk]
    assert {with_case.pk, nothing_overdue.pk, other_branch.pk}.isdisjoint(_page_ids(response))
    client.force_login(cast.manager)
    assert set(_page_ids(client.get(reverse("screening")))) == {listed.pk, other_branch.pk}


def test_supervisor_scope_is_the_same_rule_as_visible_to(cast):
    for branch in (cast.branch_a, cast.branch_a, cast.branch_b):
        _account(branch)
    for user in (cast.supervisor_x, cast.supervisor_y, cast.manager):
        assert set(selectors.visible_accounts(user)) == set(DelinquentAccount.objects.visible_to(user))


def test_collector_gets_403_and_manager_reads_without_open_buttons(cast, client):
    _account(cast.branch_a)
    client.force_login(cast.collector_a)
    assert client.get(reverse("screening")).status_code == 403
    assert client.get(reverse("workload")).status_code == 403
    client.force_login(cast.manager)
    response = client.get(reverse("screening"))
    assert response.status_code == 200
    assert b'data-testid="open-actions"' not in response.content
    assert b'name="account"' not in response.content
    client.force_login(cast.supervisor_x)
    assert b'data-testid="open-actions"' in client.get(reverse("screening")).content


def test_manager_cannot_open_cases(cast, client):
    account = _account(cast.branch_a)
    client.force_login(cast.manager)
    response = client.post(reverse("screening-open"), {"scope": "selected", "account": [account.pk]})
    assert response.status_code == 403
    response = client.post(reverse("screening-open"), {"scope": "all"})
    assert response.status_code == 403
    assert not Case.objects.exists()


def test_open_endpoint_refuses_get(cast, client):
    client.force_login(cast.supervisor_x)
    assert client.get(reverse("screening-open")).status_code == 405


# --- the score, the key, the order -------------------------------------------------------


def test_shown_score_and_parts_are_the_formula_with_default_weights(cast, client):
    contacted = timezone.now()
    account = _account(cast.branch_a, dpd=100, amount="12345.67", broken_promises=2, last_contact_at=contacted)
    client.force_login(cast.supervisor_x)
    response = client.get(reverse("screening"))
    # 1.0 x 100 days; 1.0 x 10 x log10(12346.67) = 40.915… → 40.92; 10 x 2 broken promises; reached.
    expected = {
        "dpd": Decimal("100.00"),
        "amount": Decimal("40.92"),
        "broken_promises": Decimal("20.00"),
        "no_contact": Decimal("0.00"),
    }
    row = response.context["page"].rows[0]
    assert row.pk == account.pk
    assert row.parts == expected
    assert _page_scores(response) == [Decimal("160.92")]
    assert "20.00" in response.content.decode()


@pytest.mark.parametrize(
    ("kwargs", "parts"),
    [
        (
            {"dpd": 0, "overdue_amount": Decimal("0.00")},
            {"dpd": "0.00", "amount": "0.00", "broken_promises": "0.00", "no_contact": "0.00"},
        ),
        (
            {"dpd": 30, "overdue_amount": Decimal("999.00"), "no_contact": True},
            {"dpd": "30.00", "amount": "30.00", "broken_promises": "0.00", "no_contact": "5.00"},
        ),
        (
            {"dpd": 365, "overdue_amount": Decimal("99999.00"), "broken_promises": 3},
            {"dpd": "365.00", "amount": "50.00", "broken_promises": "30.00", "no_contact": "0.00"},
        ),
        (
            {"dpd": 7, "overdue_amount": Decimal("51686.00")},
            {"dpd": "7.00", "amount": "47.13", "broken_promises": "0.00", "no_contact": "0.00"},
        ),
    ],
)
def test_priority_formula_with_default_weights(kwargs, parts):
    assert priority.score_parts(**kwargs) == {name: Decimal(value) for name, value in parts.items()}


def test_priority_formula_with_other_weights(settings):
    settings.DOORSTEP_PRIORITY_WEIGHTS = {"dpd": "0.5", "amount": "2", "broken_promises": "7.5", "no_contact": "1"}
    parts = priority.score_parts(dpd=41, overdue_amount=Decimal("9999.00"), broken_promises=2, no_contact=True)
    # 0.5 x 41; 2 x 10 x log10(10000) = 80; 7.5 x 2; 1.
    assert parts == {
        "dpd": Decimal("20.50"),
        "amount": Decimal("80.00"),
        "broken_promises": Decimal("15.00"),
        "no_contact": Decimal("1.00"),
    }
    assert priority.score_total(parts) == Decimal("116.50")


def test_equal_score_ranks_the_larger_amount_first_then_the_older_overdue_date(cast):
    """Both amounts round to 47.13 points: the score ties, the seed's rule decides."""
    # Created larger first: a tie broken by the id (newest first) would list the smaller first.
    larger = _account(cast.branch_a, dpd=40, amount="51696.00")
    smaller = _account(cast.branch_a, dpd=40, amount="51686.00")
    assert smaller.screening_key == larger.screening_key
    assert _ids(cast.manager) == [larger.pk, smaller.pk]
    # Same key and amount (as if a signal on the newer one made up for the day): the older date first.
    older = _account(cast.branch_b, dpd=11, amount="700.00")
    newer = _account(cast.branch_b, dpd=10, amount="700.00")
    DelinquentAccount.objects.filter(pk=newer.pk).update(screening_key=older.screening_key)
    assert _ids(cast.manager)[2:] == [older.pk, newer.pk]


def test_stored_key_equals_the_python_formula_including_data_errors(cast):
    accounts = [
        _account(cast.branch_a, dpd=400, amount="99999999.99", broken_promises=3),
        _account(cast.branch_a, dpd=0, amount="0.01", last_contact_at=timezone.now()),
        _account(cast.branch_a, dpd=-5, amount="100.00"),  # overdue_since in the future
        _account(cast.branch_a, dpd=30, amount="0.00"),  # paid up: DPD 0
        _account(cast.branch_a, amount="10.00", refresh=False),
    ]
    DelinquentAccount.objects.filter(pk=accounts[4].pk).update(overdue_since=None)
    # Only the account whose key was stale is rewritten.
    assert services.accounts_refresh_screening_keys() == 1
    assert services.accounts_refresh_screening_keys() == 0
    for account in DelinquentAccount.objects.filter(pk__in=[a.pk for a in accounts]):
        assert account.screening_key == priority.screening_key(account, as_of=_today())


def test_order_is_by_score_and_stays_so_as_days_pass_without_a_refresh(cast):
    specs = [(10, "100000"), (200, "500"), (95, "20000"), (35, "7000"), (400, "50"), (1, "900000")]
    for dpd, amount in specs:
        _account(cast.branch_a, dpd=dpd, amount=amount)
    _account(cast.branch_a, dpd=60, amount="3000", broken_promises=2)
    for days_later in (0, 30, 365):
        with time_machine.travel(timezone.now() + dt.timedelta(days=days_later), tick=False):
            day = _today()
            accounts = list(selectors.screening_accounts(cast.manager))
            scores = [priority.score_total(priority.account_score_parts(a, as_of=day)) for a in accounts]
            assert scores == sorted(scores, reverse=True), days_later


def test_single_refresh_moves_an_account_when_its_signals_change(cast):
    first = _account(cast.branch_a, dpd=90, amount="5000")
    second = _account(cast.branch_a, dpd=60, amount="5000")
    assert _ids(cast.manager) == [first.pk, second.pk]
    second.broken_promises = 5
    second.save(update_fields=["broken_promises"])
    refreshed = services.account_refresh_screening_key(account=second)
    assert refreshed.screening_key == priority.screening_key(second, as_of=_today())
    assert _ids(cast.manager) == [second.pk, first.pk]


def test_weight_change_then_bulk_refresh_reorders(cast, settings):
    old_large = _account(cast.branch_a, dpd=300, amount="100")
    young_huge = _account(cast.branch_a, dpd=5, amount="50000000")
    assert _ids(cast.manager) == [old_large.pk, young_huge.pk]
    settings.DOORSTEP_PRIORITY_WEIGHTS = {**settings.DOORSTEP_PRIORITY_WEIGHTS, "dpd": "0.1", "amount": "5"}
    call_command("refresh_screening_keys")
    assert _ids(cast.manager) == [young_huge.pk, old_large.pk]


def test_negative_weight_is_refused(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.DOORSTEP_PRIORITY_WEIGHTS = {**settings.DOORSTEP_PRIORITY_WEIGHTS, "amount": "-1"}
    with pytest.raises(ImproperlyConfigured):
        priority.weights()


weights_strategy = st.fixed_dictionaries(
    {
        name: st.decimals(min_value=0, max_value=50, places=2).map(str)
        for name in ("dpd", "amount", "broken_promises", "no_contact")
    }
)


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    dpd=st.integers(min_value=0, max_value=3000),
    more_dpd=st.integers(min_value=0, max_value=500),
    amount=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e11"), places=2),
    more_amount=st.decimals(min_value=0, max_value=Decimal("1e11"), places=2),
    broken=st.integers(min_value=0, max_value=5),
    reached=st.booleans(),
    dominant_first=st.booleans(),
    weights=weights_strategy,
)
def test_score_is_monotone_in_dpd_and_amount(
    cast, dpd, more_dpd, amount, more_amount, broken, reached, dominant_first, weights
):
    """An account with DPD and overdue amount both at least another's never ranks below it."""
    borrower = BorrowerFactory()
    today = _today()
    contact = timezone.now() if reached else None

    def make(days, value, no):
        return DelinquentAccount.objects.create(
            account_no=no,
            borrower=borrower,
            branch=cast.branch_a,
            product=Product.AUTO,
            outstanding_balance=value,
            overdue_amount=value,
            overdue_since=today - dt.timedelta(days=days),
            broken_promises=broken,
            last_contact_at=contact,
        )

    with override_settings(DOORSTEP_PRIORITY_WEIGHTS=weights), transaction.atomic():
        specs = [("DOM", dpd + more_dpd, amount + more_amount), ("SUB", dpd, amount)]
        created = {no: make(days, value, no) for no, days, value in (specs if dominant_first else specs[::-1])}
        services.accounts_refresh_screening_keys()
        dominant, dominated = (DelinquentAccount.objects.get(pk=created[no].pk) for no in ("DOM", "SUB"))
        order = _ids(cast.manager)
        score = {a.pk: priority.score_total(priority.account_score_parts(a, as_of=today)) for a in created.values()}
        assert score[dominant.pk] >= score[dominated.pk]
        assert dominant.screening_key >= dominated.screening_key
        if (more_dpd, more_amount) != (0, 0):
            assert order.index(dominant.pk) < order.index(dominated.pk)
        transaction.set_rollback(True)


account_signals = st.tuples(
    st.integers(min_value=0, max_value=800),
    st.one_of(
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e9"), places=2),
        # Near neighbours whose amount terms round to the same cent.
        st.integers(min_value=51_600, max_value=51_700).map(Decimal),
    ),
)


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(portfolio=st.lists(account_signals, min_size=2, max_size=12), broken=st.integers(0, 3), reached=st.booleans())
def test_random_portfolio_never_ranks_a_dominated_account_first(cast, portfolio, broken, reached):
    """The seed's rule over a whole list: an account at least as overdue (DPD) and at least as large as
    another, and more of either, is listed before it; equal signals may come in any order."""
    borrower = BorrowerFactory()
    today = _today()
    contact = timezone.now() if reached else None
    with transaction.atomic():
        accounts = [
            DelinquentAccount.objects.create(
                account_no=f"P{i}",
                borrower=borrower,
                branch=cast.branch_a,
                product=Product.AUTO,
                outstanding_balance=amount,
                overdue_amount=amount,
                overdue_since=today - dt.timedelta(days=dpd),
                broken_promises=broken,
                last_contact_at=contact,
            )
            for i, (dpd, amount) in enumerate(portfolio)
        ]
        services.accounts_refresh_screening_keys()
        position = {pk: i for i, pk in enumerate(_ids(cast.manager))}
        signals = {a.pk: (dpd, amount) for a, (dpd, amount) in zip(accounts, portfolio, strict=True)}
        for a, (a_dpd, a_amount) in signals.items():
            for b, (b_dpd, b_amount) in signals.items():
                if a_dpd >= b_dpd and a_amount >= b_amount and (a_dpd, a_amount) != (b_dpd, b_amount):
                    assert position[a] < position[b], (signals[a], signals[b])
        transaction.set_rollback(True)


# --- filters ------------------------------------------------------------------------------


@pytest.fixture
def portfolio(cast):
    borrower = BorrowerFactory(name="Zhang Wei")
    return {
        "young": _account(cast.branch_a, dpd=10, amount="800", product=Product.CREDIT_CARD),
        "m2": _account(cast.branch_a, dpd=45, amount="20000", product=Product.AUTO),
        "m4": _account(cast.branch_a, dpd=120, amount="3000", product=Product.MORTGAGE, borrower=borrower),
        "loss": _account(cast.branch_a, dpd=400, amount="150000", product=Product.SME, account_no="SME0000777"),
        "wuxi": _account(cast.branch_b, dpd=45, amount="20000", product=Product.AUTO),
    }


@pytest.mark.parametrize(
    "filters,expected",
    [
        ({}, {"young", "m2", "m4", "loss", "wuxi"}),
        ({"bucket": "31-60"}, {"m2", "wuxi"}),
        ({"bucket": "181+"}, {"loss"}),
        ({"loan_class": "special_mention"}, {"young", "m2", "wuxi"}),
        ({"loan_class": "substandard"}, {"m4"}),
        ({"loan_class": "loss"}, {"loss"}),
        ({"product": "auto"}, {"m2", "wuxi"}),
        ({"dpd_min": "45", "dpd_max": "120"}, {"m2", "m4", "wuxi"}),
        ({"dpd_min": "121"}, {"loss"}),
        ({"amount_min": "3000", "amount_max": "20000"}, {"m2", "m4", "wuxi"}),
        ({"q": "zhang"}, {"m4"}),
        ({"q": "sme0000"}, {"loss"}),
        ({"bucket": "31-60", "amount_min": "20000", "product": "auto"}, {"m2", "wuxi"}),
    ],
)
def test_filters(cast, client, portfolio, filters, expected):
    client.force_login(cast.manager)
    response = client.get(reverse("screening"), filters)
    assert response.status_code == 200
    names = {pk: name for name, pk in ((n, a.pk) for n, a in portfolio.items())}
    assert {names[pk] for pk in _page_ids(response)} == expected
    scores = _page_scores(response)
    assert scores == sorted(scores, reverse=True)


def test_branch_filter_and_bad_filter_values_do_not_break_the_page(cast, client, portfolio):
    client.force_login(cast.manager)
    response = client.get(reverse("screening"), {"branch": cast.branch_b.pk})
    assert _page_ids(response) == [portfolio["wuxi"].pk]
    response = client.get(
        reverse("screening"), {"dpd_min": "-4", "amount_max": "abc", "bucket": "nope", "after": "x_y", "product": "sme"}
    )
    assert response.status_code == 200
    assert _page_ids(response) == [portfolio["loss"].pk]
    assert response.context["form"].errors


def test_supervisor_cannot_filter_to_another_branch(cast, client, portfolio):
    client.force_login(cast.supervisor_x)
    response = client.get(reverse("screening"), {"branch": cast.branch_b.pk})
    assert portfolio["wuxi"].pk not in _page_ids(response)


# --- keyset pagination -------------------------------------------------------------------


def _walk(user, size, filters=None):
    seen, cursor, pages = [], None, []
    while True:
        page = selectors.screening_page(user, filters, after=cursor, size=size)
        pages.append(page)
        seen.extend(a.pk for a in page.rows)
        if not page.next_cursor:
            return seen, pages
        cursor = page.next_cursor


def test_keyset_walk_visits_every_account_once_in_order_with_ties(cast):
    for i in range(23):
        # Three accounts per (dpd, amount): equal keys, ordered by id.
        _account(cast.branch_a, dpd=30 + (i // 3) * 20, amount=str(1000 * (1 + i // 3)))
    expected = _ids(cast.manager)
    seen, pages = _walk(cast.manager, size=5)
    assert seen == expected and len(set(seen)) == 23
    assert [len(p.rows) for p in pages] == [5, 5, 5, 5, 3]
    assert pages[0].prev_cursor is None
    # Walking back from the last page with "before" cursors gives the same pages.
    page = pages[-1]
    back = [page.rows]
    while page.prev_cursor:
        page = selectors.screening_page(cast.manager, before=page.prev_cursor, size=5)
        back.append(page.rows)
    assert [a.pk for rows in back[::-1] for a in rows] == expected


def test_keyset_walk_through_the_view_with_a_filter(cast, client):
    for i in range(55):
        _account(cast.branch_a, dpd=1 + i * 7, amount=str(100 + i))
    _account(cast.branch_a, dpd=5, amount="10", product=Product.SME)
    client.force_login(cast.supervisor_x)
    filters = {"product": Product.PERSONAL_CONSUMER}
    first = client.get(reverse("screening"), filters)
    assert len(_page_ids(first)) == selectors.PAGE_SIZE
    cursor = first.context["page"].next_cursor
    second = client.get(reverse("screening"), {**filters, "after": cursor})
    assert _page_ids(first) + _page_ids(second) == _ids(cast.supervisor_x, filters)
    assert second.context["page"].next_cursor is None
    assert f"product={Product.PERSONAL_CONSUMER}" in first.content.decode()


def test_screening_page_uses_no_offset_and_no_count(cast, client):
    for i in range(8):
        _account(cast.branch_a, dpd=i + 1)
    client.force_login(cast.supervisor_x)
    cursor = selectors.screening_page(cast.supervisor_x, size=3).next_cursor
    from django.db import connection

    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("screening"), {"after": cursor})
    sql = " ".join(q["sql"].upper() for q in ctx.captured_queries)
    assert "OFFSET" not in sql
    assert "COUNT(" not in sql


@pytest.mark.parametrize("user_name", ["supervisor_x", "manager"])
def test_screening_query_count_is_constant(cast, client, user_name):
    from django.db import connection

    user = getattr(cast, user_name)
    client.force_login(user)
    counts = []
    for total in (5, 50):
        while DelinquentAccount.objects.count() < total:
            _account(cast.branch_a, broken_promises=1)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("screening"), {"bucket": "31-60"})
        assert len(_page_ids(response)) == total
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_screening_query_count_is_bounded(cast, client, django_assert_max_num_queries):
    for _ in range(50):
        _account(cast.branch_a)
    client.force_login(cast.supervisor_x)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("screening")).status_code == 200


# --- opening cases -----------------------------------------------------------------------


def test_open_selected_accounts(cast, client):
    first, second, third = (_account(cast.branch_a, dpd=d) for d in (10, 20, 30))
    client.force_login(cast.supervisor_x)
    response = client.post(
        reverse("screening-open"), {"scope": "selected", "account": [first.pk, third.pk], "bucket": "1-30"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("screening") + "?bucket=1-30"
    cases = Case.objects.filter(account__in=[first, third])
    assert cases.count() == 2 and {c.team for c in cases} == {cast.team_x}
    assert set(DelinquentAccount.objects.filter(has_open_case=True)) == {first, third}
    assert _ids(cast.supervisor_x) == [second.pk]
    assert AuditLog.objects.filter(action="case.open").count() == 2
    assert AuditLog.objects.filter(action="screening.open_cases").exists()


def test_accounts_that_got_a_case_meanwhile_are_skipped_and_reported(cast, client):
    taken, free = _account(cast.branch_a), _account(cast.branch_a)
    client.force_login(cast.supervisor_x)
    case_open(account=taken, actor=cast.supervisor_x, team=cast.team_x)
    response = client.post(
        reverse("screening-open"), {"scope": "selected", "account": [taken.pk, free.pk]}, follow=True
    )
    text = response.content.decode()
    assert "Opened 1 case." in text
    assert "1 skipped" in text and taken.account_no in text
    assert Case.objects.filter(account=taken).count() == 1
    assert Case.objects.filter(account=free).count() == 1


def test_race_on_the_one_open_case_index_is_reported_not_500(cast):
    account = _account(cast.branch_a)
    stale = DelinquentAccount.objects.filter(pk=account.pk)
    case_open(account=account, actor=cast.supervisor_x, team=cast.team_x)
    # A stale row that still says "no open case": the unique index refuses the second case.
    DelinquentAccount.objects.filter(pk=account.pk).update(has_open_case=False)
    result = services.screening_open_cases(accounts=stale, actor=cast.supervisor_x)
    assert result.done == [] and result.skipped[0][0] == account.account_no
    assert Case.objects.filter(account=account).count() == 1


def test_other_branch_accounts_cannot_be_opened_by_posting_their_ids(cast, client):
    foreign = _account(cast.branch_b)
    client.force_login(cast.supervisor_x)
    client.post(reverse("screening-open"), {"scope": "selected", "account": [foreign.pk]})
    assert not Case.objects.exists()


def test_open_all_matching_the_filter_is_bounded_per_click(cast, client, monkeypatch):
    monkeypatch.setattr(services, "OPEN_BATCH_LIMIT", 3)
    autos = [_account(cast.branch_a, dpd=10 + i, product=Product.AUTO) for i in range(5)]
    other = _account(cast.branch_a, dpd=300, product=Product.SME)
    client.force_login(cast.supervisor_x)
    response = client.post(reverse("screening-open"), {"scope": "all", "product": "auto"}, follow=True)
    assert "Opened 3 cases." in response.content.decode()
    assert f'<a class="alert-link" href="{reverse("assignments")}">Assign them</a>' in response.content.decode()
    assert "Click again for the next batch" in response.content.decode()
    # Best first: the three oldest of the filtered accounts.
    assert set(Case.objects.values_list("account_id", flat=True)) == {a.pk for a in autos[2:]}
    response = client.post(reverse("screening-open"), {"scope": "all", "product": "auto"}, follow=True)
    assert "Opened 2 cases." in response.content.decode()
    assert "next batch" not in response.content.decode()
    assert not Case.objects.filter(account=other).exists()


def test_open_with_nothing_selected_says_so(cast, client):
    client.force_login(cast.supervisor_x)
    response = client.post(reverse("screening-open"), {"scope": "selected"}, follow=True)
    assert "Select at least one account" in response.content.decode()
    response = client.post(reverse("screening-open"), {"scope": "selected", "account": ["x"]}, follow=True)
    assert response.status_code == 200 and not Case.objects.exists()


# --- keys after seeding and imports ------------------------------------------------------


def test_seed_demo_accounts_have_correct_keys(settings):
    settings.DEBUG = True
    call_command("seed_demo", accounts=24, seed=3)
    today = _today()
    accounts = list(DelinquentAccount.objects.all())
    assert accounts
    for account in accounts:
        assert account.screening_key == priority.screening_key(account, as_of=today)


def test_refresh_command_limited_to_a_branch(cast):
    a = _account(cast.branch_a, refresh=False)
    b = _account(cast.branch_b, refresh=False)
    call_command("refresh_screening_keys", branch=cast.branch_a.code)
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.screening_key == priority.screening_key(a, as_of=_today())
    assert b.screening_key == 0


def test_opening_with_an_enormous_filter_still_redirects_and_opens(cast, client):
    account = _account(cast.branch_a)
    client.force_login(cast.supervisor_x)
    response = client.post(reverse("screening-open"), {"scope": "selected", "account": [account.pk], "q": "x" * 5000})
    assert response.status_code == 302
    assert response.url == reverse("screening")
    assert Case.objects.filter(account=account).count() == 1
