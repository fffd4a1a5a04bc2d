"""Statement history, risk models and their scores, care cases, and champion/challenger strategies."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from collections_app.models import Case, DelinquentAccount, Team

MONEY = {"max_digits": 16, "decimal_places": 2}


class Statement(models.Model):
    """A monthly snapshot from core banking. Append-only: a re-import of the same month is a no-op."""

    # No index of its own: the unique (account, period_end) constraint's index starts with the account and
    # serves the same lookups, and a fourth index slowed every appended month.
    account = models.ForeignKey(DelinquentAccount, on_delete=models.CASCADE, related_name="statements", db_index=False)
    period_end = models.DateField(_("period end"))
    balance = models.DecimalField(_("balance"), **MONEY)
    amount_due = models.DecimalField(_("amount due"), null=True, blank=True, **MONEY)
    amount_paid = models.DecimalField(_("amount paid"), **MONEY)
    dpd = models.PositiveIntegerField(_("days past due"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["account", "period_end"]
        constraints = [
            models.UniqueConstraint(fields=["account", "period_end"], name="statement_one_per_account_month"),
        ]
        indexes = [models.Index(fields=["period_end"], name="statement_period_idx")]
        verbose_name = _("statement")
        verbose_name_plural = _("statements")

    def __str__(self) -> str:
        return f"{self.account_id} {self.period_end:%Y-%m}"


class StatementImport(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    filename = models.CharField(_("file"), max_length=255)
    file = models.FileField(upload_to="statement-imports/", blank=True)
    as_of = models.DateField(_("as of"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    # The first row errors, each {"row": n, "message": "..."}, for the page; the count is complete.
    errors = models.JSONField(default=list, blank=True)
    message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("statement import")
        verbose_name_plural = _("statement imports")

    def __str__(self) -> str:
        return self.filename

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0


class RiskModel(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("In use")
        RETIRED = "retired", _("Retired")
        REJECTED = "rejected", _("Not promoted")

    version = models.PositiveIntegerField(_("version"), unique=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    algorithm = models.CharField(_("algorithm"), max_length=80)
    seed = models.IntegerField(_("seed"))
    train_from = models.DateField(_("training from"))
    train_to = models.DateField(_("training to"))
    test_period = models.DateField(_("test period"))
    features = models.JSONField(_("features"))
    # {"model": {...}, "baseline": {...}, "in_use": {...}|None}: auc, brier, calibration, counts.
    metrics = models.JSONField(_("metrics"))
    # A linear surrogate of the model's log-odds: {"intercept", "coef", "mean", "r2"} per feature.
    explainer = models.JSONField(default=dict)
    decision = models.CharField(_("decision"), max_length=500, blank=True)
    artifact = models.BinaryField(editable=False)
    trained_seconds = models.FloatField(default=0)
    created_at = models.DateTimeField(_("trained"), auto_now_add=True)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=Q(status="active"), name="riskmodel_one_active"),
        ]
        verbose_name = _("risk model")
        verbose_name_plural = _("risk models")

    def __str__(self) -> str:
        return f"v{self.version}"


class RiskScore(models.Model):
    """An account's chance of 30+ DPD at its next period end, from its statement at ``period_end``."""

    account = models.ForeignKey(DelinquentAccount, on_delete=models.CASCADE, related_name="risk_scores")
    model = models.ForeignKey(RiskModel, on_delete=models.PROTECT, related_name="scores")
    period_end = models.DateField(_("period end"))
    score = models.FloatField(_("risk"))
    # The previous month's score, for "rose most since last month" (copied at scoring time).
    previous = models.FloatField(_("previous risk"), null=True, blank=True)
    is_current = models.BooleanField(default=True)
    dpd = models.PositiveIntegerField(_("days past due"), default=0)
    factors = models.JSONField(_("factors"), default=list)
    scored_at = models.DateTimeField(_("scored"), auto_now=True)

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "period_end"], name="riskscore_one_per_account_month"),
        ]
        indexes = [
            # The early-warning list: current scores of current accounts, riskiest first.
            models.Index(
                models.F("score").desc(), "id", condition=Q(is_current=True, dpd=0), name="riskscore_warning_idx"
            ),
        ]
        verbose_name = _("risk score")
        verbose_name_plural = _("risk scores")

    def __str__(self) -> str:
        return f"{self.account_id} {self.period_end} {self.score:.3f}"

    @property
    def rise(self) -> float | None:
        return None if self.previous is None else self.score - self.previous


class CareCase(models.Model):
    """A preventive contact or visit for a current account at high risk: not a collection."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")

    class Channel(models.TextChoices):
        VISIT = "visit", _("Visit")
        CALL = "call", _("Phone call")

    class Outcome(models.TextChoices):
        REACHED_FINE = "reached_fine", _("Reached, no difficulty")
        REACHED_DIFFICULTY = "reached_difficulty", _("Reached, has difficulty")
        AGREED_ADJUSTMENT = "agreed_adjustment", _("Agreed a payment adjustment")
        NOT_HOME = "not_home", _("Not home")
        NO_ANSWER = "no_answer", _("No answer")
        REFUSED = "refused", _("Refused")
        MOVED = "moved", _("Moved away")

    account = models.ForeignKey(DelinquentAccount, on_delete=models.PROTECT, related_name="care_cases")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="care_cases", verbose_name=_("team"))
    assigned_collector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="care_cases",
        verbose_name=_("collector"),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    risk_score = models.ForeignKey(RiskScore, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, blank=True)
    outcome = models.CharField(_("outcome"), max_length=30, choices=Outcome.choices, blank=True)
    note = models.CharField(_("note"), max_length=1000, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(status="open"), name="carecase_one_open_per_account"
            ),
        ]
        indexes = [models.Index(fields=["assigned_collector", "status"], name="carecase_collector_idx")]
        verbose_name = _("care case")
        verbose_name_plural = _("care cases")

    def __str__(self) -> str:
        return f"care #{self.pk} {self.account_id}"


class Strategy(models.Model):
    class FirstStep(models.TextChoices):
        VISIT = "visit", _("Visit")
        CALL = "call", _("Call")

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.CharField(_("description"), max_length=500, blank=True)
    first_step = models.CharField(_("first step"), max_length=20, choices=FirstStep.choices)
    first_due_days = models.PositiveSmallIntegerField(_("first step due within (days)"))
    weight = models.PositiveSmallIntegerField(_("share (weight)"), default=1)
    is_holdout = models.BooleanField(
        _("holdout"), default=False, help_text=_("Cases here keep the usual handling: no step is set.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("strategy")
        verbose_name_plural = _("strategies")

    def __str__(self) -> str:
        return self.name


class StrategyAssignment(models.Model):
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="strategy_assignment")
    strategy = models.ForeignKey(Strategy, on_delete=models.PROTECT, related_name="assignments")
    # The uniform draw in [0, 1) from the seed and the case id that picked the strategy (reproducible).
    draw = models.FloatField()
    seed = models.CharField(max_length=40)
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-assigned_at", "-id"]
        verbose_name = _("strategy assignment")
        verbose_name_plural = _("strategy assignments")

    def __str__(self) -> str:
        return f"{self.case_id} → {self.strategy_id}"
