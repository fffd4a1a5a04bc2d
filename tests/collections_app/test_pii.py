import pytest
from django.db import connection

from collections_app import pii
from tests.factories import BorrowerFactory

pytestmark = pytest.mark.django_db


def test_masks_match_the_documented_shapes():
    assert pii.mask_national_id("321002199001011234") == "3210**********1234"
    assert pii.mask_phone("13812345678") == "138****5678"
    assert pii.mask_phone("138-1234-5678") == "138****5678"


def test_scrub_masks_ids_and_phones_in_free_text():
    text = pii.scrub("borrower 32100219900101123X called from 13812345678")
    assert "32100219900101123X" not in text and "13812345678" not in text
    assert "3210**********123X" in text and "138****5678" in text


def test_national_id_is_encrypted_at_rest_and_found_by_keyed_hash():
    borrower = BorrowerFactory(national_id="110101199003071234")
    with connection.cursor() as cursor:
        cursor.execute("SELECT national_id_encrypted, national_id_hash FROM collections_app_borrower")
        stored = " ".join(cursor.fetchone())
    assert "110101199003071234" not in stored
    borrower.refresh_from_db()
    assert borrower.national_id == "110101199003071234"
    assert borrower.national_id_masked == "1101**********1234"
    assert type(borrower).objects.filter(national_id_hash=pii.lookup_hash("110101199003071234")).get() == borrower


def test_audit_rows_never_store_clear_ids_or_phones(cast):
    from collections_app.services.audit import audit_log

    row = audit_log(
        actor=cast.manager,
        action="test",
        changes={
            "phone": ["13812345678", "13987654321"],
            "note": "called 13812345678",
            "nested": {"national_id": "110101199003071234", "items": ["id 110101199003071234"]},
        },
    )
    row.refresh_from_db()
    stored = str(row.changes)
    assert "13812345678" not in stored and "110101199003071234" not in stored
    assert row.changes["phone"] == ["138****5678", "139****4321"]
