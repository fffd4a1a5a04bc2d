"""The audit trail: who did what to which object, from where, with which changes."""

import contextvars
from decimal import Decimal

from django.db import models

from collections_app import pii
from collections_app.models import AuditLog

# Set by collections_app.middleware.RequestContextMiddleware for the request's lifetime.
current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("doorstep_current_ip", default=None)

# Field names whose values are personal information and are masked in audit rows.
_MASKED_FIELDS = {"national_id": pii.mask_national_id, "number": pii.mask_phone, "phone": pii.mask_phone}


def without_nul(value):
    """PostgreSQL's text and JSON types cannot hold NUL characters; user text may carry them."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {key: without_nul(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [without_nul(item) for item in value]
    return value


def _jsonable(value):
    """JSON-safe and PII-free: free text is scrubbed, nested lists and dicts included."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str):
        return pii.scrub(without_nul(value))
    if isinstance(value, dict):
        return {key: _masked(key, item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def _masked(field: str, value):
    mask = _MASKED_FIELDS.get(field)
    if mask is None:
        return _jsonable(value)
    if isinstance(value, list | tuple):
        return [mask(str(item or "")) for item in value]
    return mask(str(value or ""))


def audit_changes(before: dict, after: dict) -> dict:
    """``{field: [old, new]}`` for the fields that differ, with PII masked."""
    changes = {}
    for field in sorted(set(before) | set(after)):
        old, new = before.get(field), after.get(field)
        if old == new:
            continue
        mask = _MASKED_FIELDS.get(field)
        if mask:
            old, new = mask(str(old or "")), mask(str(new or ""))
        changes[field] = [_jsonable(old), _jsonable(new)]
    return changes


def audit_log(*, actor, action: str, obj=None, changes: dict | None = None, object_type: str = "") -> AuditLog:
    return AuditLog.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=object_type or (obj._meta.label_lower if obj is not None else ""),
        object_id=str(obj.pk) if obj is not None else "",
        changes=_jsonable(changes or {}),
        ip_address=current_ip.get(),
    )
