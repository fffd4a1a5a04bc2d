from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskConfig(AppConfig):
    name = "risk"
    verbose_name = _("Risk and early warning")

    def ready(self):
        from django.db.models.signals import post_save

        from collections_app.models import Case
        from risk import panels
        from risk.signals import assign_new_case

        panels.register()
        post_save.connect(assign_new_case, sender=Case, dispatch_uid="risk-assign-new-case")
