"""``/api/v1/``, one router over every app's viewsets: token and session authentication, the case
domain, field work, repayment, screening, the schema and its docs. The catch-all JSON 404 stays last."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import SimpleRouter

from collections_app.api import views
from collections_app.api.imports import ImportJobViewSet
from collections_app.api.screening import ScreeningViewSet
from credentials import api as credentials_api
from repayment.api import PaymentViewSet, PlanViewSet, PromiseViewSet
from repayment.api_finances import DeclarationViewSet, FigureViewSet
from visits.api import VisitViewSet

app_name = "api"

router = SimpleRouter(use_regex_path=False)
router.register("accounts", views.AccountViewSet, basename="account")
router.register("cases", views.CaseViewSet, basename="case")
router.register("visits", VisitViewSet, basename="visit")
router.register("promises", PromiseViewSet, basename="promise")
router.register("plans", PlanViewSet, basename="plan")
router.register("payments", PaymentViewSet, basename="payment")
router.register("finances", DeclarationViewSet, basename="finance")
router.register("finance-figures", FigureViewSet, basename="finance-figure")
router.register("screening", ScreeningViewSet, basename="screening")
router.register("imports", ImportJobViewSet, basename="import")

urlpatterns = [
    path("auth/token/", credentials_api.TokenObtainView.as_view(), name="token"),
    path("auth/token/refresh/", credentials_api.TokenRefreshView.as_view(), name="token-refresh"),
    path("auth/token/revoke/", credentials_api.TokenRevokeView.as_view(), name="token-revoke"),
    path("users/<int:pk>/tokens/revoke/", credentials_api.UserTokensRevokeView.as_view(), name="user-tokens-revoke"),
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
