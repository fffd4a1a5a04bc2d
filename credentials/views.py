"""The API tokens page: supervisors and administrators revoke every token of a user (a lost phone)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from collections_app.models import Role
from credentials import services
from credentials.selectors import users_for_token_admin

LIST_LIMIT = 500


def _require_manager_of_tokens(user) -> None:
    if not (user.is_supervisor or user.role == Role.ADMIN or user.is_superuser):
        raise PermissionDenied


@require_GET
def token_list(request):
    _require_manager_of_tokens(request.user)
    users = users_for_token_admin(request.user)[:LIST_LIMIT]
    return render(request, "credentials/token_list.html", {"users": users})


@require_POST
def token_revoke_user(request, pk: int):
    _require_manager_of_tokens(request.user)
    user = get_object_or_404(users_for_token_admin(request.user), pk=pk)
    revoked = services.user_tokens_revoke(user=user, actor=request.user)
    messages.success(
        request,
        _("Every API token of %(user)s is revoked (%(count)s); their devices must sign in again.")
        % {"user": user.get_username(), "count": revoked},
    )
    return redirect("token-list")
