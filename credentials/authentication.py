"""``Authorization: Bearer <access token>`` for the API (DRF) and for the offline sync endpoint (middleware)."""

from django.conf import settings
from django.http import JsonResponse
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from credentials.services import TokenRefused, access_token_user

KEYWORD = b"bearer"
WWW_AUTHENTICATE = 'Bearer realm="api"'


def bearer_token(header: bytes) -> str | None:
    """The token of a Bearer header; None when the header is another scheme; TokenRefused when malformed."""
    parts = header.split()
    if not parts or parts[0].lower() != KEYWORD:
        return None
    if len(parts) != 2:
        raise TokenRefused(code="token_invalid")
    try:
        return parts[1].decode("ascii")
    except UnicodeDecodeError as exc:
        raise TokenRefused(code="token_invalid") from exc


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        try:
            token = bearer_token(get_authorization_header(request))
            if token is None:
                return None
            return access_token_user(token)
        except TokenRefused as exc:
            raise AuthenticationFailed(str(exc.message), code=exc.code) from exc

    def authenticate_header(self, request) -> str:
        # Present, so an unauthenticated API call is a 401 (with this challenge), not a 403.
        return WWW_AUTHENTICATE


class BearerTokenMiddleware:
    """The same tokens on the few non-API endpoints a device posts to (the offline outbox's ``/sync/``).

    Only for a request that carries a Bearer header: the user is the token's, and CSRF does not apply (a
    browser never adds this header by itself). An expired token answers 401 JSON so the device refreshes.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        prefixes = tuple(getattr(settings, "DOORSTEP_BEARER_PATHS", ("/sync/",)))
        if request.path.startswith(prefixes):
            try:
                token = bearer_token(request.META.get("HTTP_AUTHORIZATION", "").encode("latin-1"))
                if token is not None:
                    request.user, request.auth = access_token_user(token)
                    request._dont_enforce_csrf_checks = True
            except TokenRefused as exc:
                response = JsonResponse({"detail": str(exc.message), "code": exc.code, "errors": {}}, status=401)
                response["WWW-Authenticate"] = WWW_AUTHENTICATE
                return response
        return self.get_response(request)
