from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = _("Evidence")

    def ready(self):
        from collections_app.models import CloseReason, Stage
        from collections_app.workflow import register_after_move
        from evidence import panels
        from evidence.services import legal_close_check, legal_close_react

        panels.register()
        register_after_move(Stage.CLOSED, legal_close_react, close_reason=CloseReason.LEGAL, check=legal_close_check)
