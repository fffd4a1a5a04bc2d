from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from collections_app.models import Borrower
from collections_app.retention import borrower_anonymised
from visits.models import ContactAttempt, Visit, VisitPhoto

pytestmark = pytest.mark.django_db(transaction=True)


def test_anonymising_a_borrower_clears_what_field_work_recorded(case_a, cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    now = timezone.now()
    attempt = ContactAttempt.objects.create(
        case=case_a,
        actor=cast.collector_a,
        result="no_answer",
        attempted_at=now,
        phone_number="13812345678",
        note="wife said he works nights",
    )
    visit = Visit.objects.create(
        case=case_a,
        collector=cast.collector_a,
        checked_in_at=now,
        outcome="not_home",
        lat=Decimal("31.3"),
        lng=Decimal("120.6"),
        notes="neighbour at no. 5 knows him",
        overdue_reason_text="lost job",
    )
    photo = VisitPhoto(visit=visit, content_type="image/png", size=3, sha256="0" * 64)
    photo.file.save("door.png", ContentFile(b"png"), save=True)
    stored = tmp_path / photo.file.name
    assert stored.exists()

    borrower_anonymised.send(sender=Borrower, borrower_id=case_a.account.borrower_id, case_ids=[case_a.pk])

    attempt.refresh_from_db()
    visit.refresh_from_db()
    assert (attempt.phone_number, attempt.note) == ("", "")
    assert (visit.notes, visit.overdue_reason_text, visit.lat, visit.lng) == ("", "", None, None)
    assert visit.outcome == "not_home", "statistics keep the outcome"
    assert not VisitPhoto.objects.filter(visit=visit).exists()
    assert not stored.exists()
