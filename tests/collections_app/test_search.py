"""The search box: by name, account number and last digits of a phone or ID; only what the user may see;
masked personal data; a query count that does not grow with the matches."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collections_app.importer import bulk
from collections_app.models import Borrower, BorrowerPhone
from collections_app.selectors import search as selectors
from tests.factories import AccountFactory, BorrowerFactory

pytestmark = pytest.mark.django_db

URL = reverse("search")


def _search(client, user, q: str):
    client.force_login(user)
    response = client.get(URL, {"q": q})
    assert response.status_code == 200
    return response


def _found(response) -> list[str]:
    rows = response.context.get("rows") or []
    return [row.account_no for row in rows]


@pytest.fixture
def wang(cast):
    borrower = BorrowerFactory(name="王小明", national_id="110101199003078515")
    borrower.phones.all().delete()
    BorrowerPhone.objects.create(borrower=borrower, number="13900112233", is_primary=True)
    return AccountFactory(borrower=borrower, branch=cast.branch_a, account_no="SZ-2024-000777")


def test_manager_finds_an_account_by_name_fragment_and_by_account_number(client, cast, wang):
    AccountFactory(branch=cast.branch_a, borrower=BorrowerFactory(name="李四"), account_no="WX-1")
    ouyang = AccountFactory(branch=cast.branch_a, borrower=BorrowerFactory(name="欧阳小明"), account_no="WX-2")
    assert _found(_search(client, cast.manager, "小明")) == []  # two characters: the start of a name only
    assert _found(_search(client, cast.manager, "王小")) == ["SZ-2024-000777"]
    assert _found(_search(client, cast.manager, "阳小明")) == [ouyang.account_no]  # three: anywhere in it
    assert _found(_search(client, cast.manager, "2024-0007")) == ["SZ-2024-000777"]
    assert _found(_search(client, cast.manager, "sz-2024")) == ["SZ-2024-000777"]


def test_finds_by_the_last_four_digits_of_a_phone_or_of_the_id(client, cast, wang):
    assert _found(_search(client, cast.manager, "2233")) == ["SZ-2024-000777"]
    assert _found(_search(client, cast.manager, "8515")) == ["SZ-2024-000777"]
    assert _found(_search(client, cast.manager, "0011 2233")) == ["SZ-2024-000777"]  # more digits: the tail
    assert _found(_search(client, cast.manager, "9999 2233")) == []
    assert _found(_search(client, cast.manager, "110101199003078515")) == ["SZ-2024-000777"]  # whole ID, by hash


def test_only_the_last_four_characters_of_the_id_are_stored_in_clear(wang):
    borrower = Borrower.objects.get(pk=wang.borrower_id)
    assert borrower.national_id_last4 == "8515"
    assert "110101199003078515" not in {borrower.national_id_encrypted, borrower.national_id_hash}
    assert BorrowerFactory(national_id="32100219900101123x").national_id_last4 == "123X"


def test_phone_tail_is_computed_by_the_database_also_for_bulk_inserts(cast):
    borrower = BorrowerFactory()
    (pk,) = bulk.insert(BorrowerPhone, [{"borrower_id": borrower.pk, "number": "13700004321", "is_primary": True}])
    assert BorrowerPhone.objects.get(pk=pk).number_last4 == "4321"


def test_collector_finds_only_accounts_of_own_cases(client, cast, case_a):
    no = case_a.account.account_no
    response = _search(client, cast.collector_a, no)
    assert _found(response) == [no]
    assert response.context["rows"][0].case_url == reverse("case-detail", args=[case_a.pk])
    for other in (cast.collector_a2, cast.collector_b, cast.supervisor_y):
        assert _found(_search(client, other, no)) == [], other.username
    assert _found(_search(client, cast.supervisor_x, no)) == [no]


def test_supervisor_finds_screening_accounts_of_own_branch_without_a_case_link(client, cast, wang):
    response = _search(client, cast.supervisor_x, "王小明")
    assert _found(response) == [wang.account_no]
    assert response.context["rows"][0].case_url == ""
    assert _found(_search(client, cast.supervisor_y, "王小明")) == []


def test_results_show_personal_numbers_masked(client, cast, wang):
    body = _search(client, cast.manager, "2233").content.decode()
    assert "139****2233" in body
    assert "1101**********8515" in body
    assert "13900112233" not in body
    assert "110101199003078515" not in body


def test_a_one_character_query_asks_for_more(client, cast, wang):
    response = _search(client, cast.manager, "王")
    assert response.context["terms"] is None
    assert "Type at least 2 characters." in response.content.decode()


def test_more_matches_than_the_cap_asks_to_narrow(client, cast, monkeypatch):
    monkeypatch.setattr(selectors, "SEARCH_CAP", 3)
    for _ in range(5):
        AccountFactory(branch=cast.branch_a, borrower=BorrowerFactory(name="张伟"))
    response = _search(client, cast.manager, "张伟")
    assert len(_found(response)) == 3
    assert response.context["capped"] is True


def test_search_box_is_in_the_navbar_for_every_role(client, cast):
    for user in (cast.collector_a, cast.supervisor_x, cast.manager):
        client.force_login(user)
        body = client.get(reverse("case-list")).content.decode()
        assert 'data-testid="nav-search"' in body and 'data-testid="nav-search-link"' in body


def test_search_reads_a_fixed_number_of_queries_whatever_the_matches(client, cast):
    def queries() -> int:
        client.get(URL, {"q": "赵六"})
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL, {"q": "赵六"}).status_code == 200
        return len(ctx.captured_queries)

    client.force_login(cast.manager)
    AccountFactory(branch=cast.branch_a, borrower=BorrowerFactory(name="赵六"))
    few = queries()
    for _ in range(20):
        AccountFactory(branch=cast.branch_b, borrower=BorrowerFactory(name="赵六"))
    assert queries() == few
    assert few <= 6  # session, user, matching ids, count, page (+ the navbar's own reads)


def test_backfill_fills_the_id_tail_of_existing_borrowers(wang):
    Borrower.objects.filter(pk=wang.borrower_id).update(national_id_last4="")
    migration = importlib.import_module("collections_app.migrations.0017_search_last_digits")
    migration.backfill_national_id_last4(django_apps, None)
    assert Borrower.objects.get(pk=wang.borrower_id).national_id_last4 == "8515"


def test_search_page_speaks_chinese(client, cast, wang):
    client.force_login(cast.manager)
    body = client.get(URL, {"q": "2233"}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "找到 1 个账户" in body
    assert "姓名、账号、后 4 位" in body  # the navbar box
    assert "无案件" in body
