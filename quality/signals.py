from django.db import transaction

from quality import reviews, safety


def sample_new_visit(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """Every new visit is drawn for the review queue once its transaction commits."""
    if created and not raw:
        visit_id = instance.pk
        transaction.on_commit(lambda: _sample(visit_id), robust=True)


def _sample(visit_id: int) -> None:
    from visits.models import Visit

    visit = Visit.objects.select_related("collector").filter(pk=visit_id).first()
    if visit is not None:
        reviews.review_sample(visit=visit)
        safety.flag_after_hostile_visit(visit=visit)
