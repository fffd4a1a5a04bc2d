"""Every URL pattern, asked for anonymously, redirects to the login page (except the public ones)."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

PUBLIC = {
    "login",
    "healthz",
    "metrics",
    "set_language",
    "javascript-catalog",
    "admin:login",
    "api:token",
    "api:token-refresh",
    "api:token-revoke",
    # The borrower's self-service link: the signed token is the key (tests/voice/test_borrower_link.py).
    "borrower-page",
}
# Third-party namespaces with their own login handling.
SKIP_PREFIXES = ("admin/", "static/", "media/")


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name}" if entry.name else None


def _concrete(route: str) -> str:
    route = re.sub(r"<(?:int:)?(\w+)>", "1", route)
    route = re.sub(r"<uuid:\w+>", "00000000-0000-0000-0000-000000000000", route)
    route = re.sub(r"<(?:str|slug|path):\w+>", "x", route)
    route = route.replace("^", "").replace("$", "").replace("\\Z", "")
    return "/" + route


ROUTES = sorted(
    {(r, n) for r, n in _walk(get_resolver().url_patterns) if n not in PUBLIC and not r.startswith(SKIP_PREFIXES)},
    key=lambda x: x[0],
)


@pytest.mark.parametrize("route,name", ROUTES, ids=[r for r, _ in ROUTES])
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_request_is_sent_to_login(client, route, name, method):
    response = getattr(client, method)(_concrete(route))
    assert response.status_code in (302, 401, 403), (route, response.status_code)
    if response.status_code == 302:
        assert response.url.startswith("/accounts/login/")


def test_admin_requires_staff_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response.url
