"""Reads for the token pages: whose tokens an actor may revoke, with how many are live."""

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from collections_app.models import Role, User


def users_for_token_admin(actor: User) -> QuerySet:
    """The users whose tokens ``actor`` may revoke, each with its live-token count and last issue time."""
    users = User.objects.select_related("team__branch")
    if not (actor.role == Role.ADMIN or actor.is_superuser):
        users = users.filter(Q(team__supervisor=actor) | Q(pk=actor.pk))
    live = Q(api_tokens__revoked_at__isnull=True, api_tokens__expires_at__gt=timezone.now())
    return users.annotate(
        live_tokens=Count("api_tokens", filter=live), last_issued=Max("api_tokens__created_at")
    ).order_by("username")
