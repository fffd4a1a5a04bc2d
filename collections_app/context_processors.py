from django.conf import settings
from django.utils.translation import gettext_lazy as _

from collections_app.models import Role

# (url name, label, icon, roles that see it). Apps add entries here as their pages arrive.
NAV_ITEMS = [
    ("home", _("Home"), "house", {Role.COLLECTOR, Role.SUPERVISOR, Role.MANAGER, Role.ADMIN}),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"brand": settings.DOORSTEP_BRAND, "nav_items": []}
    role = Role.ADMIN if user.is_superuser else user.role
    items = [
        {"url_name": name, "label": label, "icon": icon} for name, label, icon, roles in NAV_ITEMS if role in roles
    ]
    return {"brand": settings.DOORSTEP_BRAND, "nav_items": items}
