from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    """The top layer: reads every app (cases, visits, repayment) for managers' figures; nothing imports it."""

    name = "dashboard"
    verbose_name = _("Dashboard")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from collections_app.importer.signals import import_finished
        from collections_app.models import Team, User
        from dashboard.recovery import scope_changed
        from dashboard.tallies import state_tally_refresh

        def refresh_after_import(**_kwargs) -> None:
            # An import changes the portfolio wholesale: the dashboard shows it now, not at the next beat.
            state_tally_refresh()

        import_finished.connect(refresh_after_import, weak=False, dispatch_uid="dashboard-refresh-after-import")
        for model in (User, Team):
            for signal in (post_save, post_delete):
                signal.connect(
                    scope_changed, sender=model, weak=False, dispatch_uid=f"dashboard-scope-{model.__name__}"
                )
