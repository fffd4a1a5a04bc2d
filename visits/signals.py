"""Retention: when a borrower is anonymised, what the field work recorded about them goes too —
free text, numbers dialled, positions and photo evidence. Outcomes, times and amounts stay, so
productivity and recovery statistics remain true."""

from django.db import transaction

from visits.models import ContactAttempt, SyncConflict, Visit, VisitPhoto, VisitPlan


def clear_personal_data(sender, *, case_ids, **kwargs) -> None:
    ContactAttempt.objects.filter(case_id__in=case_ids).update(phone_number="", note="")
    VisitPlan.objects.filter(case_id__in=case_ids).update(talking_points="")
    Visit.objects.filter(case_id__in=case_ids).update(
        notes="", overdue_reason_text="", lat=None, lng=None, accuracy_m=None
    )
    SyncConflict.objects.filter(case_id__in=case_ids).update(payload={})
    photos = VisitPhoto.objects.filter(visit__case_id__in=case_ids)
    files = [photo.file for photo in photos]
    photos.delete()
    # Files go only once the anonymisation has committed, so a rollback loses no evidence.
    transaction.on_commit(lambda: [stored.delete(save=False) for stored in files])
