from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VoiceConfig(AppConfig):
    name = "voice"
    verbose_name = _("The borrower's voice")

    def ready(self):
        from collections_app.retention import borrower_anonymised
        from collections_app.rules import register_conduct_source, register_visit_hold
        from voice import panels
        from voice.rules import conduct_complaint_hold, named_in_conduct_complaint
        from voice.signals import clear_personal_data

        panels.register()
        register_visit_hold(conduct_complaint_hold)
        register_conduct_source(named_in_conduct_complaint)
        borrower_anonymised.connect(clear_personal_data, dispatch_uid="voice-clear-personal-data")
