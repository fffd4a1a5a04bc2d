from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepaymentConfig(AppConfig):
    name = "repayment"
    verbose_name = _("Repayment")

    def ready(self):
        from collections_app.retention import borrower_anonymised
        from repayment.signals import clear_free_text

        borrower_anonymised.connect(clear_free_text, dispatch_uid="repayment-clear-free-text")
