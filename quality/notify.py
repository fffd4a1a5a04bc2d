"""In-app notifications of this app, stored as template and values so each reader gets their language."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from collections_app.models import Notification


def notify(*, recipient, case, kind: str, template: str, params: dict, dedupe_key: str) -> Notification | None:
    if recipient is None:
        return None
    try:
        with transaction.atomic():
            return Notification.objects.create(
                recipient=recipient,
                case=case,
                kind=kind,
                message=(gettext(template) % params)[:500],
                template=template,
                params=params,
                dedupe_key=dedupe_key,
            )
    except IntegrityError:  # the same alert already sent (dedupe_key)
        return None
