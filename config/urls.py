from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from collections_app.i18n import javascript_catalog
from collections_app.views import home
from config import api_errors, metrics

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz/", home.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("jsi18n/", javascript_catalog, name="javascript-catalog"),
    path("", include("collections_app.urls_screening")),
    path("", include("collections_app.urls_cases")),
    path("", include("collections_app.urls_search")),
    path("", include("collections_app.urls_imports")),
    path("", include("collections_app.urls_audit")),
    path("", include("visits.urls")),
    path("", include("repayment.urls")),
    path("", include("evidence.urls")),
    path("", include("quality.urls")),
    path("", include("voice.urls")),
    path("", include("dashboard.urls")),
    path("", include("credentials.urls")),
    path("", include("risk.urls")),
    path("api/v1/", include("config.urls_api")),
    path("admin/", admin.site.urls),
]

# Under /api/ the documented JSON error, elsewhere Django's pages (config.api_errors).
handler400 = api_errors.bad_request
handler403 = api_errors.permission_denied
handler404 = api_errors.page_not_found
handler500 = api_errors.server_error
