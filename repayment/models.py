"""Promises to pay, repayment plans with their instalments, payments and their allocation, and the
follow-up checks the engine sweeps (due work stored as rows, never as broker ``eta`` messages)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from collections_app.choice_labels import ChoiceLabels

MONEY = {"max_digits": 16, "decimal_places": 2}
ZERO = Decimal("0.00")
POSITIVE = [MinValueValidator(Decimal("0.01"))]


class PromiseToPay(ChoiceLabels, models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        KEPT = "kept", _("Kept")
        PARTIALLY_KEPT = "partially_kept", _("Partially kept")
        BROKEN = "broken", _("Broken")
        CANCELLED = "cancelled", _("Cancelled")

    # The allowed status moves, source → targets; only ``repayment.services.statuses`` writes a status.
    MOVES = {
        Status.PENDING: frozenset({Status.KEPT, Status.PARTIALLY_KEPT, Status.BROKEN, Status.CANCELLED}),
    }

    case = models.ForeignKey("collections_app.Case", on_delete=models.CASCADE, related_name="promises")
    amount = models.DecimalField(_("amount"), validators=POSITIVE, **MONEY)
    due_date = models.DateField(_("due date"))
    grace_days = models.PositiveSmallIntegerField(_("grace days"))
    paid_amount = models.DecimalField(_("paid"), default=ZERO, **MONEY)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["case", "status"], name="promise_case_status_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0) & Q(paid_amount__gte=0), name="promise_amounts_valid")
        ]
        verbose_name = _("promise to pay")
        verbose_name_plural = _("promises to pay")

    def __str__(self) -> str:
        return f"PTP #{self.pk} {self.amount} {self.due_date}"

    @property
    def remaining(self) -> Decimal:
        return max(self.amount - self.paid_amount, ZERO)


class RepaymentPlan(ChoiceLabels, models.Model):
    class Kind(models.TextChoices):
        INSTALMENTS = "instalments", _("Instalments")
        DEFERRAL = "deferral", _("Deferral")
        SETTLEMENT = "settlement", _("Settlement with waiver")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING_APPROVAL = "pending_approval", _("Pending approval")
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        DEFAULTED = "defaulted", _("Defaulted")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN_STATUSES = (Status.DRAFT, Status.PENDING_APPROVAL, Status.ACTIVE)
    # The allowed status moves, source → targets; only ``repayment.services.statuses`` writes a status.
    MOVES = {
        Status.DRAFT: frozenset({Status.PENDING_APPROVAL, Status.ACTIVE, Status.CANCELLED}),
        Status.PENDING_APPROVAL: frozenset({Status.ACTIVE, Status.CANCELLED}),
        Status.ACTIVE: frozenset({Status.COMPLETED, Status.DEFAULTED, Status.CANCELLED}),
    }

    case = models.ForeignKey("collections_app.Case", on_delete=models.CASCADE, related_name="plans")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    # base_amount is the debt the plan addresses; the borrower pays amount = base - waiver.
    base_amount = models.DecimalField(_("debt covered"), validators=POSITIVE, **MONEY)
    waiver_amount = models.DecimalField(_("waiver"), default=ZERO, **MONEY)
    amount = models.DecimalField(_("amount to pay"), validators=POSITIVE, **MONEY)
    instalment_count = models.PositiveSmallIntegerField(_("instalments"), default=1)
    deferral_months = models.PositiveSmallIntegerField(_("deferral (months)"), default=0)
    first_due_date = models.DateField(_("first due date"))
    grace_days = models.PositiveSmallIntegerField(_("grace days"))
    requires_approval = models.BooleanField(_("needs approval"), default=False)
    approval_reasons = models.JSONField(_("why approval is needed"), default=list, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("proposed by")
    )
    created_at = models.DateTimeField(_("proposed"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=500, blank=True)
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)
    closed_at = models.DateTimeField(_("ended"), null=True, blank=True)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One plan in the works per case: a second proposal races to this index.
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status__in=["draft", "pending_approval", "active"]),
                name="plan_one_open_per_case",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(waiver_amount__gte=0) & Q(instalment_count__gte=1),
                name="plan_amounts_valid",
            ),
        ]
        # The dashboard counts the plans that ended in a period.
        indexes = [
            models.Index(
                fields=["closed_at"],
                include=["status"],
                condition=Q(closed_at__isnull=False),
                name="plan_closed_at_idx",
            )
        ]
        verbose_name = _("repayment plan")
        verbose_name_plural = _("repayment plans")

    def __str__(self) -> str:
        return f"Plan #{self.pk} {self.get_kind_display()} {self.amount}"

    def get_absolute_url(self) -> str:
        return reverse("plan-detail", args=[self.pk])

    @property
    def waiver_percent(self) -> Decimal:
        if not self.base_amount:
            return ZERO
        return (self.waiver_amount * 100 / self.base_amount).quantize(Decimal("0.01"))

    @property
    def term_months(self) -> int:
        from repayment.schedule import term_months

        return term_months(count=self.instalment_count, deferral_months=self.deferral_months)


class Instalment(ChoiceLabels, models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PAID = "paid", _("Paid")
        MISSED = "missed", _("Missed")
        CANCELLED = "cancelled", _("Cancelled")

    # The allowed status moves, source → targets; only ``repayment.services.statuses`` writes a status.
    MOVES = {
        Status.PENDING: frozenset({Status.PAID, Status.MISSED, Status.CANCELLED}),
    }

    plan = models.ForeignKey(RepaymentPlan, on_delete=models.CASCADE, related_name="instalments")
    seq = models.PositiveSmallIntegerField(_("number"))
    due_date = models.DateField(_("due date"))
    amount = models.DecimalField(_("amount"), validators=POSITIVE, **MONEY)
    paid_amount = models.DecimalField(_("paid"), default=ZERO, **MONEY)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        ordering = ["plan", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "seq"], name="instalment_unique_seq"),
            models.CheckConstraint(condition=Q(amount__gt=0) & Q(paid_amount__gte=0), name="instalment_amounts_valid"),
        ]
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")

    def __str__(self) -> str:
        return f"{self.plan_id}/{self.seq} {self.amount} {self.due_date}"

    @property
    def remaining(self) -> Decimal:
        return max(self.amount - self.paid_amount, ZERO)


class Payment(ChoiceLabels, models.Model):
    class Channel(models.TextChoices):
        CASH = "cash", _("Cash")
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        CARD = "card", _("Card")
        MOBILE = "mobile", _("Mobile wallet")
        OTHER = "other", _("Other")

    case = models.ForeignKey("collections_app.Case", on_delete=models.CASCADE, related_name="payments")
    amount = models.DecimalField(_("amount"), validators=POSITIVE, **MONEY)
    paid_on = models.DateField(_("payment date"))
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    receipt_no = models.CharField(_("receipt number"), max_length=40, null=True, blank=True, unique=True)
    # The part not (yet) allocated to a promise or instalment: held as a credit, applied to the next
    # promise or plan of the case, never lost.
    held_amount = models.DecimalField(_("held credit"), default=ZERO, **MONEY)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["-paid_on", "-id"]
        indexes = [
            models.Index(fields=["case", "paid_on"], name="payment_case_date_idx"),
            # The dashboard reads the payments recorded since its tally's watermark.
            models.Index(fields=["recorded_at"], name="payment_recorded_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(held_amount__gte=0) & Q(held_amount__lte=models.F("amount")),
                name="payment_amounts_valid",
            )
        ]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")

    def __str__(self) -> str:
        return self.receipt_no or f"Payment #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("payment-receipt", args=[self.pk])


class PaymentAllocation(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="allocations")
    promise = models.ForeignKey(
        PromiseToPay, on_delete=models.CASCADE, null=True, blank=True, related_name="allocations"
    )
    instalment = models.ForeignKey(
        Instalment, on_delete=models.CASCADE, null=True, blank=True, related_name="allocations"
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(promise__isnull=False, instalment__isnull=True)
                    | Q(promise__isnull=True, instalment__isnull=False)
                )
                & Q(amount__gt=0),
                name="allocation_one_target",
            )
        ]
        verbose_name = _("payment allocation")
        verbose_name_plural = _("payment allocations")

    def __str__(self) -> str:
        return f"{self.payment_id} → {self.amount}"


class FollowUpCheck(models.Model):
    """A check the engine evaluates at ``due_at``: one row per promise/instalment due date, reminder
    and care revisit. ``dedupe_key`` makes scheduling idempotent; the sweep claims rows by row lock."""

    class Kind(models.TextChoices):
        PROMISE_DUE = "promise_due", _("Promise due")
        INSTALMENT_DUE = "instalment_due", _("Instalment due")
        REMINDER = "reminder", _("Reminder")
        CARE_REVISIT = "care_revisit", _("Care revisit")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    case = models.ForeignKey("collections_app.Case", on_delete=models.CASCADE, related_name="followup_checks")
    promise = models.ForeignKey(PromiseToPay, on_delete=models.CASCADE, null=True, blank=True, related_name="checks")
    instalment = models.ForeignKey(Instalment, on_delete=models.CASCADE, null=True, blank=True, related_name="checks")
    due_at = models.DateTimeField(_("due"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    dedupe_key = models.CharField(max_length=120, unique=True)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    evaluated_at = models.DateTimeField(_("evaluated"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=40, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # The sweep: pending rows by due time.
            # The sweep claims pending checks in (due_at, id) order straight off this index, a batch at a time.
            models.Index(fields=["due_at", "id"], condition=Q(status="pending"), name="followup_due_id_idx"),
        ]
        verbose_name = _("follow-up check")
        verbose_name_plural = _("follow-up checks")

    def __str__(self) -> str:
        return f"{self.kind} {self.dedupe_key} {self.due_at:%Y-%m-%d %H:%M}"


# Declared vs verified finances live in their own module; imported here so Django finds the models.
from repayment.models_finances import (  # noqa: E402
    KIND_CATEGORY,
    DeclaredFigure,
    FinanceEvidence,
    FinancialDeclaration,
)

__all__ = [
    "KIND_CATEGORY",
    "ZERO",
    "DeclaredFigure",
    "FinanceEvidence",
    "FinancialDeclaration",
    "FollowUpCheck",
    "Instalment",
    "Payment",
    "PaymentAllocation",
    "PromiseToPay",
    "RepaymentPlan",
]
