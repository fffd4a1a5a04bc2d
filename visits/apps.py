from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisitsConfig(AppConfig):
    name = "visits"
    verbose_name = _("Visits")

    def ready(self):
        from collections_app.models import Stage
        from collections_app.retention import borrower_anonymised
        from collections_app.workflow import register_guard
        from visits import panels
        from visits.rules import check_ready_to_visit
        from visits.signals import clear_personal_data

        panels.register()
        register_guard(Stage.PREPARATION, Stage.VISIT, check_ready_to_visit)

        borrower_anonymised.connect(clear_personal_data, dispatch_uid="visits-clear-personal-data")
