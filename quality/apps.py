from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "quality"
    verbose_name = _("Quality and safety")

    def ready(self):
        from quality import panels
        from quality.signals import sample_new_visit
        from visits.models import Visit

        panels.register()
        post_save.connect(sample_new_visit, sender=Visit, dispatch_uid="quality-sample-new-visit")
