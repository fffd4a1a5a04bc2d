"""Issue, refresh and revoke API tokens. Every write is atomic and leaves an audit row.

A sign-in (``token_pair_obtain``) starts a *family*: an access token (15 minutes) and a refresh token
(7 days). ``token_refresh`` uses the refresh token up and returns a new pair of the same family; a refresh
token presented a second time means someone holds a copy, so the whole family is revoked. A supervisor or
an administrator revokes every token of a user (a lost phone) with ``user_tokens_revoke``.
"""

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collections_app.exceptions import DoorstepError, NotPermitted
from collections_app.models import Role, User
from collections_app.services.audit import audit_log
from credentials.models import ApiToken, token_digest

ACCESS_PREFIX = "dsa_"
REFRESH_PREFIX = "dsr_"


class TokenRefused(DoorstepError):
    """The token presented does not (or no longer) give access: sign in again."""

    default_message = gettext_lazy("The token is not valid; sign in again.")
    status_code = 401


def access_lifetime() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "API_ACCESS_TOKEN_SECONDS", 15 * 60))


def refresh_lifetime() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "API_REFRESH_TOKEN_SECONDS", 7 * 24 * 3600))


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    access_expires_at: dt.datetime
    refresh_expires_at: dt.datetime

    def as_json(self) -> dict:
        return {
            "access": self.access,
            "refresh": self.refresh,
            "token_type": "Bearer",
            "expires_in": max(0, round((self.access_expires_at - timezone.now()).total_seconds())),
            "access_expires_at": self.access_expires_at.isoformat(),
            "refresh_expires_at": self.refresh_expires_at.isoformat(),
        }


def _issue(user: User, family: uuid.UUID) -> TokenPair:
    now = timezone.now()
    access = ACCESS_PREFIX + secrets.token_urlsafe(32)
    refresh = REFRESH_PREFIX + secrets.token_urlsafe(32)
    pair = TokenPair(access, refresh, now + access_lifetime(), now + refresh_lifetime())
    ApiToken.objects.bulk_create(
        [
            ApiToken(
                user=user,
                kind=ApiToken.Kind.ACCESS,
                digest=token_digest(access),
                family=family,
                expires_at=pair.access_expires_at,
            ),
            ApiToken(
                user=user,
                kind=ApiToken.Kind.REFRESH,
                digest=token_digest(refresh),
                family=family,
                expires_at=pair.refresh_expires_at,
            ),
        ]
    )
    return pair


@transaction.atomic
def token_pair_obtain(*, user: User) -> TokenPair:
    """A new sign-in for an authenticated user (password checked by the caller, or a browser session)."""
    if not user.is_active:
        raise TokenRefused(_("This account is inactive."), code="inactive")
    family = uuid.uuid4()
    pair = _issue(user, family)
    audit_log(actor=user, action="api_token.obtain", obj=user, changes={"sign_in": str(family)})
    return pair


def access_token_user(token: str) -> tuple[User, ApiToken]:
    """The user an access token stands for, or ``TokenRefused`` with why (for the 401's ``code``)."""
    row = ApiToken.objects.select_related("user").filter(digest=token_digest(token), kind=ApiToken.Kind.ACCESS).first()
    if row is None:
        raise TokenRefused(code="token_invalid")
    if row.revoked_at is not None:
        raise TokenRefused(_("The token was revoked; sign in again."), code="token_revoked")
    if row.expires_at <= timezone.now():
        raise TokenRefused(_("The access token has expired; refresh it."), code="token_expired")
    if not row.user.is_active:
        raise TokenRefused(_("This account is inactive."), code="inactive")
    return row.user, row


def _revoke_family(family: uuid.UUID) -> int:
    return ApiToken.objects.filter(family=family, revoked_at__isnull=True).update(revoked_at=timezone.now())


@transaction.atomic
def _refresh(refresh: str) -> TokenPair | TokenRefused:
    # The row lock makes two refreshes with the same token take turns: the second sees it used.
    row = (
        ApiToken.objects.select_for_update()
        .filter(digest=token_digest(refresh), kind=ApiToken.Kind.REFRESH)
        .select_related("user")
        .first()
    )
    if row is None:
        return TokenRefused(code="token_invalid")
    if row.revoked_at is not None:
        return TokenRefused(_("The token was revoked; sign in again."), code="token_revoked")
    if row.used_at is not None:
        revoked = _revoke_family(row.family)
        audit_log(
            actor=row.user,
            action="api_token.reuse",
            obj=row.user,
            changes={"sign_in": str(row.family), "revoked": revoked},
        )
        return TokenRefused(
            _("This refresh token was already used, so every token of this sign-in is revoked; sign in again."),
            code="token_reused",
        )
    if row.expires_at <= timezone.now():
        return TokenRefused(_("The refresh token has expired; sign in again."), code="token_expired")
    if not row.user.is_active:
        return TokenRefused(_("This account is inactive."), code="inactive")
    row.used_at = timezone.now()
    row.save(update_fields=["used_at"])
    pair = _issue(row.user, row.family)
    audit_log(actor=row.user, action="api_token.refresh", obj=row.user, changes={"sign_in": str(row.family)})
    return pair


def token_refresh(*, refresh: str) -> TokenPair:
    """Use a refresh token up for a new pair; a reused one revokes its sign-in (committed before the refusal)."""
    result = _refresh(refresh)
    if isinstance(result, TokenRefused):
        raise result
    return result


@transaction.atomic
def token_revoke(*, token: str) -> int:
    """Sign out a device: revoke every token of the sign-in the presented (access or refresh) token belongs to."""
    row = ApiToken.objects.select_related("user").filter(digest=token_digest(token)).first()
    if row is None:
        return 0
    revoked = _revoke_family(row.family)
    audit_log(actor=row.user, action="api_token.revoke", obj=row.user, changes={"sign_in": str(row.family)})
    return revoked


def may_revoke_for(actor: User, user: User) -> bool:
    """An administrator for anyone; a supervisor for the members of the teams they supervise, and themselves."""
    if not actor.is_authenticated:
        return False
    if actor.role == Role.ADMIN or actor.is_superuser:
        return True
    if actor.pk == user.pk:
        return True
    return actor.is_supervisor and user.team_id is not None and user.team.supervisor_id == actor.pk


@transaction.atomic
def user_tokens_revoke(*, user: User, actor: User) -> int:
    """Revoke every token of ``user`` (a lost or stolen phone); the user signs in again on their next device."""
    if not may_revoke_for(actor, user):
        raise NotPermitted(_("Only the user's supervisor or an administrator can revoke their tokens."))
    revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    audit_log(actor=actor, action="api_token.revoke_all", obj=user, changes={"user": user.pk, "revoked": revoked})
    return revoked
