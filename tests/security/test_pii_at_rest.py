"""A dump of the PostgreSQL database shows no national ID number in clear."""

import io

import pytest
from django.db import connection
from django.urls import reverse

from collections_app.services.audit import audit_changes, audit_log
from tests.factories import BorrowerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ID = "110101199003071234"


def _dump_all_tables() -> str:
    out = io.StringIO()
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.copy_expert(f'COPY "{table}" TO STDOUT', out)
    return out.getvalue()


def test_no_table_holds_a_clear_national_id(client, cast, case_a):
    borrower = BorrowerFactory(national_id=ID)
    account = case_a.account
    account.borrower = borrower
    account.save(update_fields=["borrower"])
    # The ID goes through the paths that could leak it: a reveal, an audited change.
    client.force_login(cast.collector_a)
    assert client.post(reverse("pii-reveal", args=[borrower.pk, "national_id"])).status_code == 200
    audit_log(
        actor=cast.supervisor_x,
        action="borrower.update",
        obj=borrower,
        changes=audit_changes({"national_id": "110101199003070000"}, {"national_id": ID}),
    )

    dump = _dump_all_tables()
    assert "collections_app_borrower" in connection.introspection.table_names()
    assert borrower.national_id_hash in dump  # the dump did include the borrower row
    assert ID not in dump
