"""Under /api/ every error is the documented JSON {"detail", "code", "errors"}, never an HTML page."""

import pytest
from django.db import OperationalError
from django.test import Client

from collections_app.api import views
from credentials.services import token_pair_obtain

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_client(cast):
    client = Client(raise_request_exception=False)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token_pair_obtain(user=cast.supervisor_x).access}"
    return client


def _assert_json_error(response, status: int, code: str):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code and body["detail"] and body["errors"] == {}
    return body


@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_exception_in_an_api_view_is_a_json_500(api_client, monkeypatch, settings, debug):
    settings.DEBUG = debug  # DEBUG would otherwise answer Django's HTML technical page

    def broken(self, request, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.CaseViewSet, "list", broken)
    _assert_json_error(api_client.get("/api/v1/cases/"), 500, "server_error")


def test_a_killed_database_connection_is_a_json_503_the_client_may_retry(api_client, monkeypatch):
    def killed(self, request, *args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(views.CaseViewSet, "list", killed)
    response = api_client.get("/api/v1/cases/")
    _assert_json_error(response, 503, "database_unavailable")
    assert response["Retry-After"]


def test_a_database_failure_before_the_view_is_json_too(api_client, monkeypatch):
    # Authentication reads the token table before any view runs: the failure surfaces through handler500.
    from credentials.authentication import BearerTokenAuthentication

    def killed(self, request):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(BearerTokenAuthentication, "authenticate", killed)
    _assert_json_error(api_client.get("/api/v1/cases/"), 503, "database_unavailable")


def test_a_failing_middleware_under_api_answers_json_through_handler500(api_client, monkeypatch):
    from collections_app import security

    def broken(self, request):
        raise RuntimeError("middleware broke")

    monkeypatch.setattr(security.NoStoreMiddleware, "__call__", broken)
    _assert_json_error(api_client.get("/api/v1/cases/"), 500, "server_error")
    page = Client(raise_request_exception=False).get("/healthz/")
    assert page.status_code == 500 and not page["Content-Type"].startswith("application/json")


def test_unknown_api_paths_and_wrong_methods_are_json(api_client):
    _assert_json_error(api_client.get("/api/v1/no-such-thing/"), 404, "not_found")
    _assert_json_error(api_client.get("/api/v2/cases/"), 404, "not_found")
    _assert_json_error(api_client.delete("/api/v1/cases/"), 405, "method_not_allowed")


def test_pages_outside_the_api_keep_their_html_errors(client, cast):
    client.force_login(cast.supervisor_x)
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and "text/html" in response["Content-Type"]
