"""Offline visit sync: the endpoint the device's outbox posts to, and the conflicts it may answer.

A visit captured offline reaches ``POST /sync/visits/`` (``visit-sync``) as the visit form's
fields plus ``case``. The answer is one of:

- ``201 created`` / ``200 duplicate`` — ``visits.services.visit_log`` is idempotent by the form's
  key, so an item sent twice exists once;
- ``409 conflict`` — the case was reassigned to someone else, closed, or left the visit stage
  meanwhile: a ``SyncConflict`` keeps the rejected payload and the case team's supervisor gets a
  notification (once per key), so nothing is silently dropped;
- ``400 invalid`` — field errors or a rule refusal; the device keeps the item, marked failed.
"""

import hashlib
import uuid

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from collections_app.exceptions import DoorstepError, NotPermitted, TransitionNotAllowed
from collections_app.models import Case, CaseEvent, Notification, Stage, User
from collections_app.services.audit import audit_log
from collections_app.services.uploads import StorageUnavailable
from visits import services
from visits.forms import VisitForm
from visits.models import SyncConflict, Visit

NOTIFICATION_KIND = "sync_conflict"
_NOT_PAYLOAD = {"csrfmiddlewaretoken"}


# --- reads ----------------------------------------------------------------------------------------


def _was_assigned(actor: User, case_id: int) -> bool:
    """Whether the actor was ever this case's collector (the timeline's assignment events say)."""
    return CaseEvent.objects.filter(
        Q(payload__collector=actor.get_username()) | Q(payload__previous=actor.pk),
        case_id=case_id,
        kind__in=(CaseEvent.Kind.ASSIGNED, CaseEvent.Kind.REASSIGNED),
    ).exists()


def sync_case(actor: User, case_id: int) -> tuple[Case, str]:
    """The case an outbox item is for and the conflict reason ("" when the visit may be logged).

    A case the actor may no longer see is a conflict only if they were once its collector;
    any other id is a 404, so the endpoint tells nobody about cases that were never theirs.
    """
    cases = Case.objects.select_related("account__borrower", "account__branch", "team__supervisor")
    case = cases.filter(pk=case_id).first()
    if case is None:
        raise Http404
    if not Case.objects.visible_to(actor).filter(pk=case.pk).exists():
        if _was_assigned(actor, case.pk):
            return case, SyncConflict.Reason.REASSIGNED
        raise Http404
    if not case.is_open:
        return case, SyncConflict.Reason.CLOSED
    if case.stage != Stage.VISIT:
        return case, SyncConflict.Reason.STAGE
    return case, ""


def conflict_for_user(user: User, pk: int) -> SyncConflict:
    """A conflict its collector or the case team's supervisor may read; 404 otherwise."""
    conflicts = SyncConflict.objects.select_related("case__account__borrower", "case__team", "collector")
    if user.is_collector:
        return get_object_or_404(conflicts, pk=pk, collector=user)
    return get_object_or_404(conflicts, pk=pk, case__in=Case.objects.visible_to(user))


def conflicts_for_user(user: User):
    conflicts = SyncConflict.objects.select_related("case__account__borrower", "collector")
    if user.is_collector:
        return conflicts.filter(collector=user)
    return conflicts.filter(case__in=Case.objects.visible_to(user))


# --- writes ---------------------------------------------------------------------------------------


def conflict_message(case: Case, reason: str) -> str:
    if reason == SyncConflict.Reason.REASSIGNED:
        return _("Case #%(case)s was reassigned to someone else while you were offline.") % {"case": case.pk}
    if reason == SyncConflict.Reason.CLOSED:
        return _("Case #%(case)s was closed while you were offline.") % {"case": case.pk}
    if reason == SyncConflict.Reason.STORAGE:
        return _(
            "The server could not store the visit on case #%(case)s (its storage failed); "
            "the visit stays on the device and is sent again."
        ) % {"case": case.pk}
    return _("Case #%(case)s is no longer in the visit stage (it is in %(stage)s).") % {
        "case": case.pk,
        "stage": Stage(case.stage).label,
    }


def payload_of(data, files) -> dict:
    """The submitted form as JSON: every field but the CSRF token; photos as their fingerprints."""
    fields = {k: data.getlist(k) if len(data.getlist(k)) > 1 else data.get(k) for k in data if k not in _NOT_PAYLOAD}
    photos = []
    for upload in files.getlist("photos"):
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        photos.append(
            {"name": upload.name[:100], "type": upload.content_type, "size": upload.size, "sha256": digest.hexdigest()}
        )
    return {"fields": fields, "photos": photos}


def _summary(conflict: SyncConflict) -> str:
    fields = conflict.payload.get("fields", {})
    outcome = dict(Visit.Outcome.choices).get(fields.get("outcome", ""), fields.get("outcome", ""))
    return _(
        "Visit captured offline by %(collector)s on case #%(case)s was not saved: %(message)s "
        "Outcome: %(outcome)s; check-in %(checkin)s; %(photos)s photo(s); notes: %(notes)s. Details: %(url)s"
    ) % {
        "collector": conflict.collector.get_username(),
        "case": conflict.case_id,
        "message": conflict.message,
        "outcome": outcome or "—",
        "checkin": fields.get("checked_in_at", "—"),
        "photos": len(conflict.payload.get("photos", [])),
        "notes": (fields.get("notes") or "—")[:120],
        "url": conflict.get_absolute_url(),
    }


@transaction.atomic
def sync_conflict_record(
    *, case: Case, actor: User, idempotency_key: uuid.UUID, reason: str, payload: dict
) -> SyncConflict:
    """Keep a refused offline visit and tell the case team's supervisor, once per idempotency key."""
    conflict = SyncConflict.objects.filter(idempotency_key=idempotency_key).first()
    if conflict is not None:
        return conflict
    try:
        with transaction.atomic():
            conflict = SyncConflict.objects.create(
                idempotency_key=idempotency_key,
                case=case,
                collector=actor,
                reason=reason,
                message=conflict_message(case, reason)[:500],
                payload=payload,
            )
    except IntegrityError:  # the same item synced concurrently from two tabs
        return SyncConflict.objects.get(idempotency_key=idempotency_key)
    supervisor = case.team.supervisor
    if supervisor is not None:
        Notification.objects.get_or_create(
            dedupe_key=f"sync-conflict:{idempotency_key}",
            defaults={
                "recipient": supervisor,
                "case": case,
                "kind": NOTIFICATION_KIND,
                "message": _summary(conflict)[:500],
            },
        )
    audit_log(actor=actor, action="visit.sync_conflict", obj=conflict, changes={"case": case.pk, "reason": reason})
    return conflict


@transaction.atomic
def sync_conflict_discard(*, conflict: SyncConflict, actor: User) -> SyncConflict:
    """The collector read the conflict and drops the item from the device; the server copy stays."""
    if conflict.collector_id != actor.pk:
        raise NotPermitted(_("Only the collector who captured the visit can discard it."))
    if conflict.discarded_at is None:
        conflict.discarded_at = timezone.now()
        conflict.save(update_fields=["discarded_at"])
        audit_log(actor=actor, action="visit.sync_conflict_discard", obj=conflict)
    return conflict


# --- views ----------------------------------------------------------------------------------------


def _conflict_response(conflict: SyncConflict) -> JsonResponse:
    return JsonResponse(
        {
            "status": "conflict",
            "reason": conflict.reason,
            "message": conflict.message,
            "conflict": conflict.pk,
            "url": conflict.get_absolute_url(),
            "discard_url": reverse("sync-conflict-discard", args=[conflict.pk]),
        },
        status=409,
    )


def _invalid(errors: dict, message: str = "") -> JsonResponse:
    message = message or _("The visit has errors; open it to correct them.")
    return JsonResponse({"status": "invalid", "message": message, "errors": errors}, status=400)


def _visit_response(visit: Visit, created: bool) -> JsonResponse:
    status = "created" if created else "duplicate"
    return JsonResponse(
        {"status": status, "visit": visit.pk, "url": visit.get_absolute_url()}, status=201 if created else 200
    )


def _storage_failed(request, *, case: Case, key: uuid.UUID, exc: StorageUnavailable) -> JsonResponse:
    """Nothing was written; the item stays pending on the device (503) and a conflict tells the supervisor."""
    payload = payload_of(request.POST, request.FILES)
    conflict = sync_conflict_record(
        case=case, actor=request.user, idempotency_key=key, reason=SyncConflict.Reason.STORAGE, payload=payload
    )
    return JsonResponse(
        {"status": "unavailable", "code": exc.code, "message": str(exc.message), "conflict": conflict.pk},
        status=exc.status_code,
    )


@require_POST
def visit_sync(request):
    """``POST /sync/visits/``: one outbox item (the visit form's fields + ``case``), idempotent by key."""
    actor = request.user
    if not actor.is_collector:
        raise PermissionDenied(_("Only collectors sync visits captured offline."))
    try:
        key = uuid.UUID(request.POST.get("idempotency_key", ""))
        case_id = int(request.POST.get("case", ""))
    except ValueError:
        return _invalid({"__all__": [_("The item has no valid idempotency key or case.")]})
    existing = Visit.objects.filter(idempotency_key=key).first()
    if existing is not None:
        if existing.collector_id != actor.pk or existing.case_id != case_id:
            return _invalid({"__all__": [_("This form was already used for another visit.")]})
        return _visit_response(existing, created=False)
    case, reason = sync_case(actor, case_id)
    if reason:
        payload = payload_of(request.POST, request.FILES)
        return _conflict_response(
            sync_conflict_record(case=case, actor=actor, idempotency_key=key, reason=reason, payload=payload)
        )
    form = VisitForm(request.POST, request.FILES, case=case, owner=actor)
    if not form.is_valid():
        return _invalid({field: [str(e) for e in errors] for field, errors in form.errors.items()})
    try:
        visit, created = services.visit_log(case=case, actor=actor, **form.service_kwargs())
    except (TransitionNotAllowed, NotPermitted):
        # The case moved between our check and the write: the same conflict, detected late.
        case, reason = sync_case(actor, case_id)
        reason = reason or SyncConflict.Reason.STAGE
        payload = payload_of(request.POST, request.FILES)
        conflict = sync_conflict_record(case=case, actor=actor, idempotency_key=key, reason=reason, payload=payload)
        return _conflict_response(conflict)
    except StorageUnavailable as exc:
        return _storage_failed(request, case=case, key=key, exc=exc)
    except DoorstepError as exc:
        return _invalid({"__all__": [str(exc.message)]}, str(exc.message))
    form.release_kept()
    return _visit_response(visit, created)


@require_GET
def sync_conflict_list(request):
    if not (request.user.is_collector or request.user.is_supervisor or request.user.sees_everything):
        raise PermissionDenied
    conflicts = conflicts_for_user(request.user)[:200]
    return render(request, "visits/sync_conflicts.html", {"conflicts": conflicts})


@require_GET
def sync_conflict_detail(request, pk: int):
    conflict = conflict_for_user(request.user, pk)
    return render(request, "visits/sync_conflicts.html", {"conflicts": [conflict], "single": True})


@require_POST
def sync_conflict_discard_view(request, pk: int):
    conflict = conflict_for_user(request.user, pk)
    try:
        sync_conflict_discard(conflict=conflict, actor=request.user)
    except DoorstepError as exc:
        raise PermissionDenied(exc.message) from exc
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"status": "discarded", "conflict": conflict.pk})
    return redirect("sync-conflict-list")
