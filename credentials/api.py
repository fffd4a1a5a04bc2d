"""``/api/v1/auth/token/`` (obtain), ``/refresh/``, ``/revoke/`` and ``/api/v1/users/<id>/tokens/revoke/``."""

from django.contrib.auth import authenticate
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from collections_app.api.common import validated
from collections_app.api.schema import ErrorSerializer
from collections_app.api.views import LoginNotRequiredMixin
from credentials import services
from credentials.selectors import users_for_token_admin

PairSerializer = inline_serializer(
    "TokenPair",
    {
        "access": serializers.CharField(),
        "refresh": serializers.CharField(),
        "token_type": serializers.CharField(),
        "expires_in": serializers.IntegerField(),
        "access_expires_at": serializers.DateTimeField(),
        "refresh_expires_at": serializers.DateTimeField(),
    },
)


class TextField(serializers.CharField):
    """A JSON string only: a number or a list where a token or a password goes is refused, not turned into text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ObtainSerializer(serializers.Serializer):
    username = TextField(required=False, min_length=1, max_length=150)
    password = TextField(
        required=False, min_length=1, max_length=4096, style={"input_type": "password"}, trim_whitespace=False
    )


class RefreshSerializer(serializers.Serializer):
    refresh = TextField(min_length=1, max_length=200)


class RevokeSerializer(serializers.Serializer):
    token = TextField(min_length=1, max_length=200)


def _error(detail: str, code: str, status_code: int, errors: dict | None = None) -> Response:
    return Response({"detail": detail, "code": code, "errors": errors or {}}, status=status_code)


@extend_schema(
    summary="Sign in: get an access and a refresh token",
    description=(
        "Exchange a username and password (or, from the signed-in browser, the session) for an access token "
        "valid 15 minutes and a refresh token valid 7 days. Send `Authorization: Bearer <access>`. "
        "The login lockout applies: 429 after 10 failures."
    ),
    request=ObtainSerializer,
    responses={200: PairSerializer, 400: ErrorSerializer, 401: ErrorSerializer, 429: ErrorSerializer},
)
class TokenObtainView(LoginNotRequiredMixin, APIView):
    # Session only (CSRF-checked) for the browser's own sign-in; otherwise anonymous with a password.
    authentication_classes = [SessionAuthentication]
    permission_classes = [AllowAny]

    def post(self, request):
        body = ObtainSerializer(data=request.data)
        data = body.validated_data if body.is_valid() else {}
        if request.user.is_authenticated and not data.get("username"):
            user = request.user
        else:
            # Anything short of a username and a password (and no signed-in session) signs nobody in: 401.
            missing = {f: [_("This field is required.")] for f in ("username", "password") if not data.get(f)}
            if missing:
                errors = body.errors or missing
                return _error(_("Sign in with a username and a password."), "not_authenticated", 401, errors)
            user = authenticate(request=request, username=data["username"], password=data["password"])
            if getattr(request, "axes_locked_out", False):
                return _error(_("Too many failed sign-ins; this account is locked for a while."), "locked_out", 429)
            if user is None:
                message = _("Unable to sign in with the username and password given.")
                # 401: well-formed credentials that sign nobody in (a malformed body is the 400).
                return _error(message, "invalid_credentials", 401, {"non_field_errors": [message]})
        return Response(services.token_pair_obtain(user=user).as_json())


@extend_schema(
    summary="Refresh: a new token pair for a refresh token",
    description=(
        "A refresh token works once: the answer holds a new access and refresh token. Presenting a used "
        "refresh token again revokes every token of that sign-in (401 `token_reused`)."
    ),
    request=RefreshSerializer,
    responses={200: PairSerializer, 401: ErrorSerializer},
)
class TokenRefreshView(LoginNotRequiredMixin, APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def post(self, request):
        data = validated(RefreshSerializer, request.data)
        return Response(services.token_refresh(refresh=data["refresh"]).as_json())


@extend_schema(
    summary="Sign out a device",
    description="Revokes every token of the sign-in the given access or refresh token belongs to.",
    request=RevokeSerializer,
    responses={200: inline_serializer("TokenRevoked", {"revoked": serializers.IntegerField()})},
)
class TokenRevokeView(LoginNotRequiredMixin, APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def post(self, request):
        data = validated(RevokeSerializer, request.data)
        return Response({"revoked": services.token_revoke(token=data["token"])})


@extend_schema(
    summary="Revoke every token of a user (a lost phone)",
    description="For the user's supervisor or an administrator; audited. 404 for a user you do not manage.",
    request=None,
    responses={
        200: inline_serializer("UserTokensRevoked", {"revoked": serializers.IntegerField()}),
        404: OpenApiResponse(ErrorSerializer),
    },
)
class UserTokensRevokeView(LoginNotRequiredMixin, APIView):
    def post(self, request, pk: int):
        user = get_object_or_404(users_for_token_admin(request.user), pk=pk)
        revoked = services.user_tokens_revoke(user=user, actor=request.user)
        return Response({"revoked": revoked}, status=status.HTTP_200_OK)
