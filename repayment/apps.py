from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepaymentConfig(AppConfig):
    name = "repayment"
    verbose_name = _("Repayment")

    def ready(self):
        from collections_app.models import Stage
        from collections_app.retention import borrower_anonymised
        from collections_app.workflow import register_guard
        from repayment import panels
        from repayment.rules import check_agreement
        from repayment.signals import clear_free_text

        panels.register()
        register_guard(Stage.NEGOTIATION, Stage.FOLLOW_UP, check_agreement)
        borrower_anonymised.connect(clear_free_text, dispatch_uid="repayment-clear-free-text")
