"""The search box's query on PostgreSQL keeps to its indexes at a realistic size: 100,000 borrowers and
accounts, analysed, with the planner free to choose (no ``enable_seqscan = off``). The timing at 1 M
accounts is in the README ("Search")."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collections_app.models import Branch
from collections_app.selectors import search as selectors

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ROWS = 100_000
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红娥玲芬燕彬鹏辉宇浩凯健俊帆帅旭宁龙林欣佳怡雪晨阳"


@pytest.fixture
def many_accounts(cast):
    branch = Branch.objects.create(code="BIG", name="Big")
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO collections_app_borrower
                (id, name, national_id_encrypted, national_id_hash, national_id_last4, employer, created_at, updated_at)
            SELECT 1000000 + i,
                   substr(%(s)s, 1 + (hashint4(i) & 2147483647) %% char_length(%(s)s), 1)
                   || substr(%(g)s, 1 + (hashint4(i * 7) & 2147483647) %% char_length(%(g)s), 1)
                   || substr(%(g)s, 1 + (hashint4(i * 13) & 2147483647) %% char_length(%(g)s), 1),
                   '', md5(i::text), lpad(((hashint4(i * 3) & 2147483647) %% 10000)::text, 4, '0'), '', now(), now()
            FROM generate_series(1, %(n)s) i;
            INSERT INTO collections_app_borrowerphone (borrower_id, number, label, is_primary)
            SELECT 1000000 + i, '13' || lpad(((hashint4(i * 5) & 2147483647) %% 1000000000)::text, 9, '0'),
                   'mobile', true
            FROM generate_series(1, %(n)s) i;
            INSERT INTO collections_app_delinquentaccount
                (account_no, borrower_id, branch_id, product, principal, outstanding_balance, overdue_amount,
                 overdue_since, currency, has_open_case, broken_promises, screening_key, created_at, updated_at)
            SELECT 'BIG' || lpad(i::text, 10, '0'), 1000000 + i, %(branch)s, 'personal_consumer', 10000, 8000,
                   500, current_date - (i %% 400), 'CNY', false, 0, 0, now(), now()
            FROM generate_series(1, %(n)s) i;
            ANALYZE collections_app_borrower;
            ANALYZE collections_app_borrowerphone;
            ANALYZE collections_app_delinquentaccount;
            """,
            {"s": SURNAMES, "g": GIVEN, "n": ROWS, "branch": branch.pk},
        )


def _plan(user, q: str) -> str:
    terms = selectors.SearchTerms.parse(q)
    with CaptureQueriesContext(connection) as ctx:
        selectors.search_account_ids(user, terms)
    (query,) = ctx.captured_queries
    with connection.cursor() as cur:
        cur.execute("EXPLAIN " + query["sql"])
        return "\n".join(row[0] for row in cur.fetchall())


def test_a_name_search_uses_the_trigram_index_on_names(cast, many_accounts):
    plan = _plan(cast.manager, "王伟强")
    assert "borrower_name_trgm_idx" in plan
    assert "Seq Scan on collections_app_borrower " not in plan + " "


def test_an_account_number_fragment_uses_the_trigram_index_on_account_numbers(cast, many_accounts):
    plan = _plan(cast.manager, "BIG00000123")
    assert "account_no_trgm_idx" in plan
    assert "Seq Scan on collections_app_delinquentaccount" not in plan


def test_last_four_digits_use_the_phone_and_id_tail_indexes(cast, many_accounts):
    plan = _plan(cast.manager, "4321")
    assert "phone_last4_idx" in plan
    assert "borrower_nid_last4_idx" in plan
    assert "Seq Scan on collections_app_borrower" not in plan


def test_a_supervisors_name_search_still_uses_the_trigram_index(cast, many_accounts):
    assert "borrower_name_trgm_idx" in _plan(cast.supervisor_x, "王伟强")
