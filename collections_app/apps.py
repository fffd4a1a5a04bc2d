from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectionsConfig(AppConfig):
    name = "collections_app"
    verbose_name = _("Collections")

    def ready(self) -> None:
        # Connect the login-time and lockout signal receivers at start-up.
        from collections_app import (
            i18n,  # noqa: F401
            security,  # noqa: F401
        )
        from collections_app.feed import register_core_kinds

        register_core_kinds()
