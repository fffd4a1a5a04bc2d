from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CredentialsConfig(AppConfig):
    name = "credentials"
    verbose_name = _("API credentials")

    def ready(self) -> None:
        from credentials import schema  # noqa: F401 — registers the OpenAPI security scheme
