"""Visit quality review: sampling, picking, the rubric and the collector's one reply."""

import datetime as dt
import hashlib

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from collections_app.exceptions import DoorstepError, NotPermitted
from collections_app.models import User
from collections_app.rules import conduct_concern_since
from collections_app.services.audit import audit_log
from quality import conf
from quality.models import Playbook, PlaybookSection, RubricItem, UnsafeAddress, Verdict, VisitReview, rubric_score
from quality.notify import notify
from visits.models import Visit, VisitPlan


def draw(visit_id: int, seed: str) -> float:
    """A number in [0, 1) fixed by the seed and the visit: the same sample on every run and every worker."""
    digest = hashlib.sha256(f"{seed}:{visit_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_new_collector(collector: User, when: dt.datetime) -> bool:
    return collector.date_joined >= when - dt.timedelta(days=conf.NEW_COLLECTOR_DAYS)


def sampling_rate(*, collector: User, when: dt.datetime) -> tuple[float, str]:
    """The collector's review rate at ``when`` and why: the highest that applies of the base rate, the
    first-30-days rate and the rate after a conduct complaint naming them in the recent window."""
    rates = [(conf.review_rate(), VisitReview.Reason.SAMPLED)]
    if is_new_collector(collector, when):
        rates.append((conf.new_collector_review_rate(), VisitReview.Reason.NEW_COLLECTOR))
    if conduct_concern_since(collector_id=collector.pk, since=when - conf.conduct_window()):
        rates.append((conf.conduct_review_rate(), VisitReview.Reason.CONDUCT_COMPLAINT))
    # Highest rate wins; on a tie the later (more specific) reason names why.
    return max(reversed(rates), key=lambda pair: pair[0])


def review_sample(*, visit: Visit, seed: str | None = None) -> VisitReview | None:
    """Put the visit in the review queue if the draw falls under the collector's rate."""
    rate, reason = sampling_rate(collector=visit.collector, when=visit.checked_in_at)
    if draw(visit.pk, seed or conf.sample_seed()) >= rate:
        return None
    review, _created = VisitReview.objects.get_or_create(
        visit=visit, defaults={"collector_id": visit.collector_id, "reason": reason}
    )
    return review


def _supervises(actor: User, visit: Visit) -> bool:
    return (
        actor.is_superuser
        or actor.role == "admin"
        or (actor.is_supervisor and visit.case.team.supervisor_id == actor.pk)
    )


@transaction.atomic
def review_pick(*, visit: Visit, actor: User) -> VisitReview:
    """A supervisor adds a visit of their team to the queue (a visit already queued stays as it is)."""
    if not _supervises(actor, visit):
        raise NotPermitted(_("Only the team's supervisor picks its visits for review."))
    review, created = VisitReview.objects.get_or_create(
        visit=visit, defaults={"collector_id": visit.collector_id, "reason": VisitReview.Reason.PICKED}
    )
    if created:
        audit_log(actor=actor, action="review.pick", obj=review, changes={"visit": visit.pk})
    return review


def _clean_items(items: dict) -> dict:
    cleaned = {}
    for item in RubricItem.values:
        entry = items.get(item) or {}
        verdict = entry.get("verdict", "")
        if verdict not in Verdict.values:
            raise DoorstepError(_("Give every rubric item a verdict: %(item)s.") % {"item": RubricItem(item).label})
        if verdict == Verdict.FAIL and not str(entry.get("note", "")).strip():
            raise DoorstepError(_("Say what went wrong for “%(item)s”.") % {"item": RubricItem(item).label})
        cleaned[item] = {"verdict": verdict, "note": str(entry.get("note", "")).strip()[:500]}
    return cleaned


@transaction.atomic
def review_submit(
    *,
    review: VisitReview,
    actor: User,
    items: dict,
    comment: str = "",
    playbook: Playbook | None = None,
    playbook_section: str = "",
    unsafe_address: bool = False,
) -> VisitReview:
    """Score the visit on the rubric; the collector is told and may reply once. The coaching note may point to
    a playbook, and to one of its sections (talking points, do, don't, next steps)."""
    if playbook_section and playbook is None:
        raise DoorstepError(_("Choose the playbook the section belongs to."))
    if playbook_section not in ("", *PlaybookSection.values):
        raise DoorstepError(_("Unknown playbook section."))
    review = VisitReview.objects.select_for_update().select_related("visit__case__team").get(pk=review.pk)
    if not _supervises(actor, review.visit):
        raise NotPermitted(_("Only the team's supervisor reviews its visits."))
    if review.status == VisitReview.Status.DONE:
        raise DoorstepError(_("This visit has already been reviewed."))
    review.items = _clean_items(items)
    review.score = rubric_score(review.items)
    review.comment = comment.strip()
    review.playbook = playbook
    review.playbook_section = playbook_section
    review.unsafe_address = unsafe_address
    review.reviewer = actor
    review.status = VisitReview.Status.DONE
    review.reviewed_at = timezone.now()
    review.save()
    if unsafe_address:
        address_id = VisitPlan.objects.filter(case_id=review.visit.case_id).values_list("address_id", flat=True).first()
        if address_id:
            UnsafeAddress.objects.get_or_create(
                address_id=address_id, defaults={"flagged_by": actor, "reason": _("Flagged by a visit review")}
            )
    audit_log(
        actor=actor,
        action="review.submit",
        obj=review,
        changes={
            "visit": review.visit_id,
            "score": review.score,
            "items": review.items,
            "playbook": playbook.pk if playbook else None,
            "section": playbook_section,
            "unsafe": unsafe_address,
        },
    )
    notify(
        recipient=review.visit.collector,
        case=review.visit.case,
        kind="review",
        template=gettext_noop("Your visit of case %(case)s was reviewed: score %(score)s."),
        params={"case": review.visit.case_id, "score": str(review.score if review.score is not None else "—")},
        dedupe_key=f"review:{review.pk}",
    )
    return review


@transaction.atomic
def review_reply(*, review: VisitReview, actor: User, reply: str) -> VisitReview:
    review = VisitReview.objects.select_for_update().get(pk=review.pk)
    if review.collector_id != actor.pk:
        raise NotPermitted(_("Only the collector whose visit was reviewed may reply."))
    if review.status != VisitReview.Status.DONE:
        raise DoorstepError(_("The review is not finished yet."))
    if review.replied_at is not None:
        raise DoorstepError(_("You have already replied to this review."))
    if not reply.strip():
        raise DoorstepError(_("Write a reply."))
    review.reply, review.replied_at = reply.strip()[:2000], timezone.now()
    review.save(update_fields=["reply", "replied_at"])
    audit_log(actor=actor, action="review.reply", obj=review, changes={"visit": review.visit_id})
    return review
