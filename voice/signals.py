"""Retention: when a borrower is anonymised, the comments they left with their ratings go; the ratings stay
(satisfaction statistics remain true)."""

from voice.models import VisitRating


def clear_personal_data(sender, *, case_ids, **kwargs) -> None:
    VisitRating.objects.filter(case_id__in=case_ids).update(comment="")
