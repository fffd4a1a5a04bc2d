"""API tokens: a short-lived access token and a single-use refresh token per sign-in, stored as hashes only."""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def token_digest(token: str) -> str:
    """What the database keeps of a token: its SHA-256 (a leaked table gives no usable token)."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def live(self):
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ApiToken(models.Model):
    """One token. A sign-in starts a family (one device); each refresh adds a pair to the family and uses up
    the refresh token presented, so a refresh token presented twice shows a copy and revokes the family."""

    class Kind(models.TextChoices):
        ACCESS = "access", _("Access")
        REFRESH = "refresh", _("Refresh")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    family = models.UUIDField(_("sign-in"), editable=False, db_index=True)
    created_at = models.DateTimeField(_("issued"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used for a refresh"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # "Every live token of this user" (the supervisor's revoke page, a lost phone).
            models.Index(fields=["user", "expires_at"], condition=Q(revoked_at__isnull=True), name="apitoken_live_idx"),
        ]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.digest[:8]}"
