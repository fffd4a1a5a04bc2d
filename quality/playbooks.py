"""Playbooks: matching a case to the playbook for its overdue reason and attitude, saving playbooks, and
recording which points a collector used and which next steps after a refusal were taken."""

from django.db import transaction
from django.db.models import JSONField, OuterRef, Subquery
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from collections_app.exceptions import DoorstepError, NotPermitted
from collections_app.models import Case, User
from collections_app.services.audit import audit_log
from quality.models import Playbook, PlaybookUse
from visits.models import Visit
from visits.selectors import loaded_visits

RESISTANCE_OUTCOMES = {Visit.Outcome.REFUSED}
RESISTANCE_ATTITUDES = {Visit.Attitude.HOSTILE}


def match(playbooks: list[Playbook], *, overdue_reason: str, attitude: str) -> Playbook | None:
    """The most specific active playbook: reason and attitude, then reason, then attitude, then a general one."""
    best, best_rank = None, -1
    for playbook in playbooks:
        if playbook.overdue_reason and playbook.overdue_reason != overdue_reason:
            continue
        if playbook.attitude and playbook.attitude != attitude:
            continue
        rank = 2 * bool(playbook.overdue_reason) + bool(playbook.attitude)
        if rank > best_rank:
            best, best_rank = playbook, rank
    return best


def lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def localised(playbook: Playbook) -> dict:
    """The playbook in the reader's language: title, points, dos and don'ts as lists."""
    zh = (get_language() or "").startswith("zh")
    pick = (
        (lambda name: getattr(playbook, f"{name}_zh") or getattr(playbook, f"{name}_en"))
        if zh
        else (lambda name: getattr(playbook, f"{name}_en") or getattr(playbook, f"{name}_zh"))
    )
    return {
        "title": pick("title"),
        "points": lines(pick("points")),
        "dos": lines(pick("dos")),
        "donts": lines(pick("donts")),
    }


def case_playbook(case: Case) -> dict | None:
    """The playbook matching the case's latest visit (or a general one before any visit), with resistance steps."""
    visits = loaded_visits(case)  # the case page loaded them with the case
    if visits is not None:
        visit = visits[0] if visits else None
    else:
        visit = (
            Visit.objects.filter(case=case)
            .order_by("-checked_in_at", "-id")
            .only("overdue_reason", "attitude", "outcome")
            .first()
        )
    reason = visit.overdue_reason if visit else ""
    attitude = visit.attitude if visit else ""
    # Each playbook with this case's use of it: no second read for the one that matches.
    uses = PlaybookUse.objects.filter(case=case, playbook=OuterRef("pk"))
    playbooks = Playbook.objects.filter(active=True).annotate(
        use_id=Subquery(uses.values("id")[:1]),
        use_points=Subquery(uses.values("points_used")[:1], output_field=JSONField()),
        use_steps=Subquery(uses.values("steps_taken")[:1], output_field=JSONField()),
    )
    playbook = match(list(playbooks), overdue_reason=reason, attitude=attitude)
    if playbook is None:
        return None
    resistance = visit is not None and (visit.outcome in RESISTANCE_OUTCOMES or visit.attitude in RESISTANCE_ATTITUDES)
    use = None
    if playbook.use_id is not None:
        use = PlaybookUse(pk=playbook.use_id, points_used=playbook.use_points, steps_taken=playbook.use_steps)
    return {
        "playbook": playbook,
        **localised(playbook),
        "resistance": resistance,
        "next_steps": [
            (step, Playbook.NextStep(step).label) for step in playbook.next_steps if step in Playbook.NextStep.values
        ]
        if resistance
        else [],
        "points_used": set(use.points_used) if use else set(),
        "steps_taken": set(use.steps_taken) if use else set(),
    }


def _may_write(actor: User) -> bool:
    return actor.is_supervisor or actor.sees_everything


@transaction.atomic
def playbook_save(*, actor: User, playbook: Playbook) -> Playbook:
    if not _may_write(actor):
        raise NotPermitted(_("Supervisors write playbooks."))
    created = playbook.pk is None
    playbook.updated_by = actor
    playbook.save()
    audit_log(
        actor=actor,
        action="playbook.create" if created else "playbook.update",
        obj=playbook,
        changes={"title": playbook.title_en},
    )
    return playbook


@transaction.atomic
def playbook_use_record(
    *, case: Case, actor: User, playbook: Playbook, points: list[int], steps: list[str]
) -> PlaybookUse:
    """The collector marks the talking points used and the next steps taken after a refusal."""
    if case.assigned_collector_id != actor.pk:
        raise NotPermitted(_("Only the case's collector records how the playbook was used."))
    count = len(lines(playbook.points_en)) or len(lines(playbook.points_zh))
    points = sorted({p for p in points if 0 <= p < max(count, len(lines(playbook.points_zh)))})
    if any(step not in playbook.next_steps for step in steps):
        raise DoorstepError(_("That next step is not in this playbook."))
    use, _created = PlaybookUse.objects.update_or_create(
        case=case,
        playbook=playbook,
        defaults={"collector": actor, "points_used": points, "steps_taken": sorted(set(steps))},
    )
    audit_log(
        actor=actor,
        action="playbook.use",
        obj=use,
        changes={"case": case.pk, "points": points, "steps": use.steps_taken},
    )
    return use
