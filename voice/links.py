"""Signing the self-service link: ``TimestampSigner`` over the link's opaque id, stamped with the link's
creation time (not the time of signing), so the URL shown to the collector is the same on every render
and ``max_age`` measures the link's real age."""

import secrets

from django.conf import settings
from django.core import signing

SALT = "voice.borrower-link"


class _LinkSigner(signing.TimestampSigner):
    def __init__(self, *, at=None):
        super().__init__(salt=SALT)
        self._at = at

    def timestamp(self):
        if self._at is None:
            return super().timestamp()
        return signing.b62_encode(int(self._at.timestamp()))


def new_token_id() -> str:
    return secrets.token_urlsafe(24)


def sign(link) -> str:
    return _LinkSigner(at=link.created_at).sign(link.token_id)


def unsign(token: str) -> str | None:
    """The link's id if the signature is good and younger than ``BORROWER_LINK_DAYS``; else None."""
    try:
        return _LinkSigner().unsign(token, max_age=settings.BORROWER_LINK_DAYS * 24 * 3600)
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
