from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepaymentConfig(AppConfig):
    name = "repayment"
    verbose_name = _("Repayment")

    def ready(self):
        from django.db.models.signals import post_save

        from collections_app.retention import borrower_anonymised
        from repayment import panels
        from repayment.models import Payment
        from repayment.signals import clear_free_text, note_last_paid_on

        panels.register()
        borrower_anonymised.connect(clear_free_text, dispatch_uid="repayment-clear-free-text")
        post_save.connect(note_last_paid_on, sender=Payment, dispatch_uid="repayment-note-last-paid-on")
