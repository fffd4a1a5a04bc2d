import datetime as dt
import logging
from decimal import Decimal

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from collections_app.templatetags.doorstep import money

logger = logging.getLogger(__name__)


class RulePack(models.Model):
    """A jurisdiction's collection-conduct rules, as data (China default, US Reg F)."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=120)
    quiet_start = models.TimeField(_("no contact from"), default=dt.time(22, 0))
    quiet_end = models.TimeField(_("no contact until"), default=dt.time(8, 0))
    max_unanswered_attempts = models.PositiveSmallIntegerField(_("unanswered attempts allowed"), default=6)
    attempts_window_days = models.PositiveSmallIntegerField(_("per how many days"), default=1)
    attempts_per_number = models.BooleanField(
        _("count attempts per number"), default=True, help_text=_("Off: attempts are counted per debt.")
    )
    third_party_after_failed_attempts = models.PositiveSmallIntegerField(
        _("third parties only after failed attempts"), default=3
    )
    retention_years = models.PositiveSmallIntegerField(_("keep contact records for (years)"), default=2)

    class Meta:
        ordering = ["code"]
        verbose_name = _("rule pack")
        verbose_name_plural = _("rule packs")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Notification(models.Model):
    """An in-app message to a user (reminders, alerts, sync conflicts)."""

    recipient = models.ForeignKey("collections_app.User", on_delete=models.CASCADE, related_name="notifications")
    case = models.ForeignKey("collections_app.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(_("kind"), max_length=40)
    message = models.CharField(_("message"), max_length=500)
    # The untranslated message and its values, so each reader gets it in their own language (``message``
    # is the same text rendered in the project's language when it was created, for rows without one).
    template = models.CharField(_("message template"), max_length=300, blank=True)
    params = models.JSONField(_("message values"), default=dict, blank=True)
    # Idempotency: the same alert (e.g. "3rd broken promise on case 12") is created once.
    dedupe_key = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"], condition=~models.Q(dedupe_key=""), name="notification_dedupe_once"
            )
        ]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_inbox_idx")]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.message

    # ``params`` holds each value as the reader's language will show it: a number or plain text as it is,
    # and tagged values built by the helpers below (``repayment.services.common`` fills them): a date (ISO),
    # an amount (a Decimal string and its currency), a choice's stored value (its label is translated when
    # read) and a message within the message (a revisit's reason: its own msgid and values).

    @staticmethod
    def date_value(day: dt.date) -> dict:
        return {"date": day.isoformat()}

    @staticmethod
    def money_value(amount, currency: str) -> dict:
        return {"money": str(amount), "currency": currency}

    @staticmethod
    def choice_value(model: type[models.Model], field: str, value: str) -> dict:
        return {"choice": f"{model._meta.label}.{field}", "value": value}

    @staticmethod
    def message_value(template: str, params: dict) -> dict:
        return {"template": template, "params": params}

    @property
    def text(self) -> str:
        """The message in the active language, its dates and amounts formatted for it; ``message`` for a row
        without a template (older rows, other senders) or whose values no longer fit the template."""
        if not self.template:
            return self.message
        try:
            return self._render(self.template, self.params)
        except (KeyError, ValueError, TypeError, AttributeError, LookupError, ArithmeticError, FieldDoesNotExist):
            logger.warning("notification %s: its values do not fit its template; showing its message", self.pk)
            return self.message

    @classmethod
    def _render(cls, template: str, params: dict) -> str:
        return gettext(template) % {name: cls._localised(value) for name, value in params.items()}

    @classmethod
    def _localised(cls, value) -> str | int:
        if isinstance(value, str | int):
            return value
        if not isinstance(value, dict):
            raise TypeError(value)
        if "date" in value:
            return formats.date_format(dt.date.fromisoformat(value["date"]))
        if "money" in value:
            return money(Decimal(value["money"]), value["currency"])
        if "choice" in value:
            app_label, model, field = value["choice"].split(".")
            choices = dict(apps.get_model(app_label, model)._meta.get_field(field).flatchoices)
            return str(choices[value["value"]])
        if "template" in value:
            return cls._render(value["template"], value["params"])
        raise ValueError(value)


class AccountBucketSnapshot(models.Model):
    """Each delinquent account's bucket on a day (nightly), for roll and cure rates."""

    account = models.ForeignKey("collections_app.DelinquentAccount", on_delete=models.CASCADE, related_name="+")
    as_of = models.DateField(_("date"))
    dpd = models.PositiveIntegerField(_("DPD"))
    bucket = models.CharField(_("bucket"), max_length=10)
    overdue_amount = models.DecimalField(_("overdue amount"), max_digits=16, decimal_places=2)
    branch = models.ForeignKey("collections_app.Branch", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "as_of"], name="snapshot_once_per_day")]
        indexes = [models.Index(fields=["as_of", "branch", "bucket"], name="snapshot_day_bucket_idx")]
        verbose_name = _("bucket snapshot")
        verbose_name_plural = _("bucket snapshots")

    def __str__(self) -> str:
        return f"{self.account_id} {self.as_of} {self.bucket}"


class ImportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    created_by = models.ForeignKey("collections_app.User", on_delete=models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    filename = models.CharField(_("file name"), max_length=255)
    file = models.FileField(_("file"), upload_to="imports/", blank=True)
    as_of = models.DateField(_("as of"), null=True, blank=True)
    create_branches = models.BooleanField(_("create missing branches"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("processed"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    report = models.FileField(_("report"), upload_to="import-reports/", blank=True)
    message = models.TextField(_("message"), blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # A running job's heartbeat (claimed, then after each chunk) and how many runs claimed it: a job
    # whose worker died mid-file is found by a stale heartbeat and taken back, a bounded number of times.
    progress_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return self.filename

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))
