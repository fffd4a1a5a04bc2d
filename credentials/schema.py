"""The OpenAPI security scheme of the Bearer tokens (loaded by ``CredentialsConfig.ready``)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "credentials.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An access token from POST /api/v1/auth/token/ (15 minutes; refresh for a new one).",
        }
