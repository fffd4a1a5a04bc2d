from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from collections_app.models import Role


def is_supervisor_or_admin(user) -> bool:
    return user.is_authenticated and (user.is_supervisor or user.role == Role.ADMIN or user.is_superuser)


class SupervisorWrites(BasePermission):
    """Reads for every signed-in role (scoped by ``visible_to``); opening and assigning for supervisors and admins.

    The services check the same again against the object (the supervisor of *this* case's team).
    """

    message = _("Only supervisors and administrators can do this.")

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return getattr(view, "action", None) not in view.supervisor_actions or is_supervisor_or_admin(request.user)
