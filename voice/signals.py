"""Retention: when a borrower is anonymised, the free text they left goes: their rating comments and the words
of their complaints (and the resolution notes that quote them). Ratings, categories, dates and statuses stay,
so satisfaction and complaint statistics remain true."""

from voice.models import Complaint, VisitRating


def clear_personal_data(sender, *, case_ids, **kwargs) -> None:
    VisitRating.objects.filter(case_id__in=case_ids).update(comment="")
    Complaint.objects.filter(case_id__in=case_ids).update(text="", resolution_note="")
