from functools import cache

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from collections_app.models import Role

C, S, M, A = Role.COLLECTOR, Role.SUPERVISOR, Role.MANAGER, Role.ADMIN

# (url name, label, icon, roles that see it), in menu order.
NAV_ITEMS = [
    ("home", _("Home"), "house", {C, S, M, A}),
    ("today", _("Today"), "signpost-split", {C}),
    ("case-list", _("Cases"), "folder2-open", {C, S, M, A}),
    ("screening", _("Screening"), "funnel", {S, M, A}),
    ("workload", _("Workload"), "people", {S, M, A}),
    ("assignments", _("Assignments"), "person-check", {S, A}),
    ("dashboard", _("Dashboard"), "graph-up", {S, M, A}),
    ("early-warning", _("Early warning"), "exclamation-triangle", {S, M, A}),
    ("care-list", _("Care"), "heart-pulse", {C, S}),
    ("import-list", _("Imports"), "upload", {S, A}),
    ("notification-list", _("Notifications"), "bell", {C, S, M, A}),
    ("audit-log", _("Audit"), "journal-text", {M, A}),
    ("token-list", _("API tokens"), "key", {S, A}),
    ("review-queue", _("Reviews"), "clipboard-check", {S, M, A}),
    ("my-reviews", _("My reviews"), "clipboard-check", {C}),
    ("playbook-list", _("Playbooks"), "book", {S, M, A}),
    ("evidence-verify", _("Evidence"), "shield-check", {M, A}),
]


# A collector's bottom tab bar on phones (url name, label, icon): the field day's pages within one thumb.
COLLECTOR_TABS = [
    ("today", _("Today"), "signpost-split"),
    ("case-list", _("Cases"), "folder2-open"),
    ("search", _("Search"), "search"),
    ("notification-list", _("Notifications"), "bell"),
]


@cache
def _resolvable(url_name: str) -> bool:
    try:
        reverse(url_name)
    except NoReverseMatch:
        return False
    return True


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"brand": settings.DOORSTEP_BRAND, "nav_items": [], "tab_items": []}
    role = Role.ADMIN if user.is_superuser else user.role
    items = [
        {"url_name": name, "label": label, "icon": icon}
        for name, label, icon, roles in NAV_ITEMS
        if role in roles and _resolvable(name)
    ]
    tabs = [
        {"url_name": name, "label": label, "icon": icon}
        for name, label, icon in (COLLECTOR_TABS if role == Role.COLLECTOR else [])
        if _resolvable(name)
    ]
    return {"brand": settings.DOORSTEP_BRAND, "nav_items": items, "tab_items": tabs}
