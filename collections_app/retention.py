"""Retention (PIPL): anonymise borrowers whose collection cases closed longer ago than the
active rule pack keeps contact records (``RulePack.retention_years``: CN 2 years, US 3).

A borrower is anonymised only when every case of theirs is closed and closed before the
cut-off, and none of their accounts is waiting in screening without ever having had a case
(fresh delinquency still needs the identity). Anonymising replaces the name, clears the
employer and the encrypted ID and its lookup hash, deletes phones and addresses (found in the field
too) with their verification history, strips free
text from the cases' timeline payloads and next actions, and neutralises the cases'
notifications. Other apps clear their own rows (visit notes, photos, plan notes) by receiving
``borrower_anonymised``, sent inside the same transaction.

Accounts, amounts, stages and dates stay: recovery statistics remain true. The audit trail is
append-only and never held clear personal data (values are masked when written).
"""

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from collections_app import chain
from collections_app.models import (
    Borrower,
    BorrowerAddress,
    BorrowerPhone,
    Case,
    CaseEvent,
    ContactPointChange,
    DelinquentAccount,
    Stage,
)
from collections_app.models.rules import Notification
from collections_app.rules import active_pack
from collections_app.services.audit import audit_log

# Sent with ``borrower_id`` and ``case_ids`` inside the anonymising transaction.
borrower_anonymised = Signal()

ANONYMISED_PREFIX = "[anonymised "
# Structured timeline details that say nothing about the person; everything else is dropped.
SAFE_PAYLOAD_KEYS = {"close_reason", "rule", "action", "priority", "collector", "previous", "outcome", "status"}
BATCH = 500


def retention_cutoff(now: dt.datetime, years: int) -> dt.datetime:
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def _not_anonymised():
    return ~(Q(name__startswith=ANONYMISED_PREFIX) & Q(national_id_hash=""))


def eligible_borrowers(cutoff: dt.datetime):
    expired = Case.objects.filter(stage=Stage.CLOSED, closed_at__lt=cutoff).values("account__borrower_id")
    keep = Case.objects.filter(~Q(stage=Stage.CLOSED) | Q(closed_at__gte=cutoff) | Q(closed_at__isnull=True)).values(
        "account__borrower_id"
    )
    waiting = DelinquentAccount.objects.filter(cases__isnull=True, overdue_amount__gt=0).values("borrower_id")
    return (
        Borrower.objects.filter(pk__in=expired)
        .exclude(pk__in=keep)
        .exclude(pk__in=waiting)
        .filter(_not_anonymised())
        .order_by("pk")
    )


def _scrub_payload(payload) -> dict:
    if not isinstance(payload, dict):
        return {"anonymised": True}
    kept = {k: v for k, v in payload.items() if k in SAFE_PAYLOAD_KEYS and not isinstance(v, dict | list)}
    return {**kept, "anonymised": True}


@transaction.atomic
def borrower_anonymise(*, borrower_id: int, cutoff: dt.datetime, actor=None) -> bool:
    """Anonymise one borrower if still eligible; ``False`` when nothing was done (idempotent)."""
    borrower = Borrower.objects.select_for_update().filter(pk=borrower_id).first()
    # Re-check under the row lock: a case may have been reopened since the batch was listed.
    if borrower is None or not eligible_borrowers(cutoff).filter(pk=borrower_id).exists():
        return False
    case_ids = list(Case.objects.filter(account__borrower_id=borrower_id).values_list("pk", flat=True))
    # The contact points' history (skip tracing: sources, notes) goes with them.
    changes, _ = ContactPointChange.objects.filter(
        Q(phone__borrower_id=borrower_id) | Q(address__borrower_id=borrower_id)
    ).delete()
    phones, _ = BorrowerPhone.objects.filter(borrower_id=borrower_id).delete()
    addresses, _ = BorrowerAddress.objects.filter(borrower_id=borrower_id).delete()
    borrower.name = f"{ANONYMISED_PREFIX}{borrower.pk}]"
    borrower.employer = ""
    borrower.national_id_encrypted = ""
    borrower.national_id_hash = ""
    borrower.national_id_last4 = ""
    fields = ["name", "employer", "national_id_encrypted", "national_id_hash", "national_id_last4", "updated_at"]
    borrower.save(update_fields=fields)
    events = list(CaseEvent.objects.filter(case_id__in=case_ids).only("pk", "payload"))
    for event in events:
        event.payload = _scrub_payload(event.payload)
    CaseEvent.objects.bulk_update(events, ["payload"], batch_size=500)
    # The scrubbed payloads no longer match their hashes: chain them again, both heads on the audit record.
    heads = {case_id: chain.reseal_case(case_id) for case_id in case_ids}
    Case.objects.filter(pk__in=case_ids).update(next_action="")
    Notification.objects.filter(case_id__in=case_ids).update(message="—", template="", params={})
    borrower_anonymised.send(sender=Borrower, borrower_id=borrower_id, case_ids=case_ids)
    audit_log(
        actor=actor,
        action="retention.anonymise",
        obj=borrower,
        changes={
            "cases": case_ids,
            "phones_deleted": phones,
            "addresses_deleted": addresses,
            "contact_changes_deleted": changes,
            "events": len(events),
            "chain_heads": {str(case_id): list(pair) for case_id, pair in heads.items()},
        },
    )
    return True


def anonymise_expired(*, now: dt.datetime | None = None, actor=None) -> int:
    """Anonymise every eligible borrower under the active rule pack; returns how many."""
    cutoff = retention_cutoff(now or timezone.now(), active_pack().retention_years)
    done = 0
    last_id = 0
    while True:
        ids = list(eligible_borrowers(cutoff).filter(pk__gt=last_id).values_list("pk", flat=True)[:BATCH])
        if not ids:
            return done
        for borrower_id in ids:
            done += borrower_anonymise(borrower_id=borrower_id, cutoff=cutoff, actor=actor)
        last_id = ids[-1]
