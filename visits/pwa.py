"""The progressive web app's two public files: the manifest and the service worker.

The worker is served by Django at ``/sw.js`` (not from ``/static/``) so its scope is the whole
site. Its source is ``static/js/sw.js``; this view prepends its configuration: the hashed URLs of
the static files to precache and a version that changes with them, so a deploy with new assets
installs a new worker.

Both need a login, like every page: the worker is registered from signed-in pages only, and the
manifest link asks for credentials (``crossorigin="use-credentials"``).
"""

import hashlib
import json

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse, JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

PRECACHE = (
    "vendor/bootstrap-5.3.9/bootstrap.min.css",
    "vendor/bootstrap-icons-1.13.2/bootstrap-icons.min.css",
    "vendor/bootstrap-icons-1.13.2/fonts/bootstrap-icons.woff2",
    "css/app.css",
    "vendor/bootstrap-5.3.9/bootstrap.bundle.min.js",
    "vendor/htmx-2.0.11/htmx.min.js",
    "js/app.js",
    "js/drafts.js",
    "js/offline.js",
    "js/visit.js",
    "js/today.js",
    "js/case.js",
    "icons/icon-192.png",
)
ICONS = (
    ("icons/icon-192.png", "192x192", "any"),
    ("icons/icon-512.png", "512x512", "any"),
    ("icons/icon-maskable-512.png", "512x512", "maskable"),
)
THEME_COLOR = "#212529"


def _static_urls(paths) -> list[str]:
    urls = []
    for path in paths:
        try:
            urls.append(static(path))
        except ValueError:  # not collected (manifest storage): the worker caches it when first used
            continue
    return urls


def _worker_source() -> str:
    path = finders.find("js/sw.js")
    with open(path, encoding="utf-8") as handle:
        return handle.read()


@require_GET
def service_worker(request):
    source = _worker_source()
    precache = _static_urls(PRECACHE)
    version = hashlib.sha256((source + json.dumps(precache)).encode()).hexdigest()[:12]
    config = {
        "version": version,
        "precache": precache,
        "staticPrefix": settings.STATIC_URL,
        "todayPath": reverse("today"),
        "loginPath": reverse("login"),
        "logoutPath": reverse("logout"),
        "never": [reverse("login"), reverse("logout"), "/admin/", "/api/", "/sync/", "/healthz/", "/sw.js"],
        "offlineTitle": _("You are offline"),
        "offlineText": _("This page was not saved on this device. Today's route and its visits were."),
        "todayLabel": _("Today's route"),
    }
    body = f"self.DOORSTEP_SW = {json.dumps(config)};\n{source}"
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    # Browsers check the worker for updates on every navigation; never serve a stale one.
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def manifest(request):
    icons = [
        {"src": url, "sizes": sizes, "type": "image/png", "purpose": purpose}
        for path, sizes, purpose in ICONS
        for url in _static_urls([path])
    ]
    data = {
        "name": settings.DOORSTEP_BRAND,
        "short_name": settings.DOORSTEP_BRAND,
        "description": _("Visit-based debt collection: today's route and visit capture, also offline."),
        "start_url": reverse("today"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOR,
        "icons": icons,
    }
    response = JsonResponse(data, content_type="application/manifest+json")
    response["Cache-Control"] = "no-cache"
    return response
