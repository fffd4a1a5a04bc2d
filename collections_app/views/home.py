from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from collections_app import health, panels
from collections_app.selectors import home as selectors


@require_GET
def home(request):
    user = request.user
    context = {
        "summary": selectors.home_summary(user),
        "next_cases": selectors.next_cases(user),
        "home_panels": panels.home_panels(),
        **panels.home_panel_context(user=user, request=request),
    }
    return render(request, "collections_app/home.html", context)


@login_not_required
@never_cache
@require_GET
def healthz(request):
    checks = {"database": health.check_database(), "broker": health.check_broker()}
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503
    )
