from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepaymentConfig(AppConfig):
    name = "repayment"
    verbose_name = _("Repayment")
