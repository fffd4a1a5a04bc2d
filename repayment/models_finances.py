"""What the borrower declares about their monthly finances, the evidence for each figure and whether it
was verified (README, "Repayment and follow-up": declared vs verified finances)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 16, "decimal_places": 2}


class FinancialDeclaration(models.Model):
    """One sitting in which the borrower told the collector their monthly figures (at a visit or in negotiation)."""

    class Source(models.TextChoices):
        VISIT = "visit", _("At the visit")
        NEGOTIATION = "negotiation", _("In negotiation")

    class Asset(models.TextChoices):
        VEHICLE = "vehicle", _("A vehicle")
        PROPERTY = "property", _("Property owned")
        BUSINESS = "business", _("A running business")
        VALUABLES = "valuables", _("Valuable goods")

    case = models.ForeignKey("collections_app.Case", on_delete=models.CASCADE, related_name="declarations")
    source = models.CharField(_("where"), max_length=20, choices=Source.choices)
    visit = models.ForeignKey(
        "visits.Visit", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("visit")
    )
    # What the collector saw at the visit (Asset values): it can contradict a low declared income.
    assets_seen = models.JSONField(_("assets seen"), default=list, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["case", "-recorded_at"], name="declaration_case_time_idx")]
        verbose_name = _("financial declaration")
        verbose_name_plural = _("financial declarations")

    def __str__(self) -> str:
        return f"{self.case_id} {self.recorded_at:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("case-finances", args=[self.case_id])

    @property
    def assets_seen_labels(self) -> list[str]:
        return [str(self.Asset(a).label) for a in self.assets_seen if a in self.Asset.values]


class DeclaredFigure(models.Model):
    """One monthly figure of a declaration, by kind; verified when evidence confirms it."""

    class Category(models.TextChoices):
        INCOME = "income", _("Income")
        EXPENSE = "expense", _("Expenses")
        DEBT = "debt", _("Other debts")

    class Kind(models.TextChoices):
        SALARY = "salary", _("Salary")
        BUSINESS = "business_income", _("Business income")
        BENEFIT = "benefit", _("Benefits")
        PENSION = "pension", _("Pension")
        OTHER_INCOME = "other_income", _("Other income")
        RENT = "rent", _("Rent")
        LIVING = "living", _("Living costs")
        EDUCATION = "education", _("Education")
        MEDICAL = "medical", _("Medical costs")
        OTHER_EXPENSE = "other_expense", _("Other expenses")
        MORTGAGE = "mortgage", _("Mortgage")
        CAR_LOAN = "car_loan", _("Car loan")
        CREDIT_CARD = "credit_card", _("Credit card")
        CONSUMER_LOAN = "consumer_loan", _("Consumer loan")
        INFORMAL_LOAN = "informal_loan", _("Private loan")
        OTHER_DEBT = "other_debt", _("Other debt")

    class Status(models.TextChoices):
        UNVERIFIED = "unverified", _("Unverified")
        VERIFIED = "verified", _("Verified")

    declaration = models.ForeignKey(FinancialDeclaration, on_delete=models.CASCADE, related_name="figures")
    category = models.CharField(_("category"), max_length=10, choices=Category.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    amount = models.DecimalField(_("declared a month"), **MONEY)
    # For a salary: whom the borrower says they work for (compared with the employer on file).
    employer = models.CharField(_("employer"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.UNVERIFIED)
    # What the evidence shows a month; affordability uses it instead of the declared amount.
    verified_amount = models.DecimalField(_("verified a month"), null=True, blank=True, **MONEY)
    evidence = models.ForeignKey(
        "FinanceEvidence",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified with"),
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verification_note = models.CharField(_("verification note"), max_length=500, blank=True)

    class Meta:
        ordering = ["declaration", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="figure_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(status="unverified")
                | Q(evidence__isnull=False, verified_amount__isnull=False, verified_amount__gte=0),
                name="figure_verified_has_evidence",
            ),
        ]
        verbose_name = _("declared figure")
        verbose_name_plural = _("declared figures")

    def __str__(self) -> str:
        return f"{self.declaration_id} {self.kind} {self.amount}"

    @property
    def is_verified(self) -> bool:
        return self.status == self.Status.VERIFIED

    @property
    def effective_amount(self):
        """What affordability counts: the verified amount once verified, the declared one until then."""
        return self.verified_amount if self.is_verified else self.amount


KIND_CATEGORY = {
    **dict.fromkeys(
        [
            DeclaredFigure.Kind.SALARY,
            DeclaredFigure.Kind.BUSINESS,
            DeclaredFigure.Kind.BENEFIT,
            DeclaredFigure.Kind.PENSION,
            DeclaredFigure.Kind.OTHER_INCOME,
        ],
        DeclaredFigure.Category.INCOME,
    ),
    **dict.fromkeys(
        [
            DeclaredFigure.Kind.RENT,
            DeclaredFigure.Kind.LIVING,
            DeclaredFigure.Kind.EDUCATION,
            DeclaredFigure.Kind.MEDICAL,
            DeclaredFigure.Kind.OTHER_EXPENSE,
        ],
        DeclaredFigure.Category.EXPENSE,
    ),
    **dict.fromkeys(
        [
            DeclaredFigure.Kind.MORTGAGE,
            DeclaredFigure.Kind.CAR_LOAN,
            DeclaredFigure.Kind.CREDIT_CARD,
            DeclaredFigure.Kind.CONSUMER_LOAN,
            DeclaredFigure.Kind.INFORMAL_LOAN,
            DeclaredFigure.Kind.OTHER_DEBT,
        ],
        DeclaredFigure.Category.DEBT,
    ),
}


def _evidence_path(instance: "FinanceEvidence", filename: str) -> str:
    # Never the uploader's file name: it may carry personal data and decides nothing here.
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"finance-evidence/{instance.figure.declaration.case_id}/{uuid.uuid4().hex}.{ext}"


class FinanceEvidence(models.Model):
    """A photo of a document backing one figure: same rules and SHA-256 as a visit photo."""

    class Kind(models.TextChoices):
        PAYSLIP = "payslip", _("Payslip")
        BANK_STATEMENT = "bank_statement", _("Bank statement")
        BENEFIT_LETTER = "benefit_letter", _("Benefit letter")
        DOCUMENT = "document", _("Photo of a document")

    figure = models.ForeignKey(DeclaredFigure, on_delete=models.CASCADE, related_name="evidence_items")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    file = models.FileField(_("photo"), upload_to=_evidence_path, max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("finance evidence")
        verbose_name_plural = _("finance evidence")

    def __str__(self) -> str:
        return f"{self.figure_id} {self.kind} {self.sha256[:12]}"

    def get_absolute_url(self) -> str:
        return reverse("finance-evidence", args=[self.pk])
