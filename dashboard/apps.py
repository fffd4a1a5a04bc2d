from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    """The top layer: reads every app (cases, visits, repayment) for managers' figures; nothing imports it."""

    name = "dashboard"
    verbose_name = _("Dashboard")

    def ready(self) -> None:
        from collections_app.importer.signals import import_finished
        from dashboard.tallies import state_tally_refresh

        def refresh_after_import(**_kwargs) -> None:
            # An import changes the portfolio wholesale: the dashboard shows it now, not at the next beat.
            state_tally_refresh()

        import_finished.connect(refresh_after_import, weak=False, dispatch_uid="dashboard-refresh-after-import")
