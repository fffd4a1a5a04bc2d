from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisitsConfig(AppConfig):
    name = "visits"
    verbose_name = _("Visits")

    def ready(self):
        from collections_app.retention import borrower_anonymised
        from visits import panels
        from visits.signals import clear_personal_data

        panels.register()

        borrower_anonymised.connect(clear_personal_data, dispatch_uid="visits-clear-personal-data")
