"""``/api/v1/``: token and session authentication, the case domain, the schema and its docs."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import SimpleRouter

from collections_app.api import views

app_name = "api"

router = SimpleRouter(use_regex_path=False)
router.register("accounts", views.AccountViewSet, basename="account")
router.register("cases", views.CaseViewSet, basename="case")

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="token"),
    # Signed-in users only (session or token). DRF views skip the login-page redirect (they answer 401/403).
    path(
        "schema/",
        login_not_required(SpectacularAPIView.as_view(permission_classes=[IsAuthenticated])),
        name="schema",
    ),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", permission_classes=[IsAuthenticated]),
        name="docs",
    ),
    *router.urls,
    re_path(r"^.*$", views.NotFoundView.as_view(), name="not-found"),
]
