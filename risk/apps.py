from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskConfig(AppConfig):
    name = "risk"
    verbose_name = _("Risk and early warning")

    def ready(self):
        from django.db.models.signals import post_save
        from django.utils.translation import gettext_lazy as _

        from collections_app.feed import FeedKind, register_feed_kind
        from collections_app.models import Case
        from risk import finance_facts, panels
        from risk.signals import assign_new_case
        from risk.statements import statement_import_file

        panels.register()
        finance_facts.register()
        register_feed_kind(FeedKind(name="statements", label=_("Statements"), run=statement_import_file))
        post_save.connect(assign_new_case, sender=Case, dispatch_uid="risk-assign-new-case")
