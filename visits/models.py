"""The field work on a case: contact attempts, the visit preparation, visit logs and their photos."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from collections_app import pii
from collections_app.choice_labels import ChoiceLabels

MONEY = {"max_digits": 16, "decimal_places": 2}


class Party(models.TextChoices):
    BORROWER = "borrower", _("Borrower")
    FAMILY = "family", _("Family member")
    THIRD_PARTY = "third_party", _("Other third party")


class ContactAttempt(ChoiceLabels, models.Model):
    class Channel(models.TextChoices):
        CALL = "call", _("Phone call")
        SMS = "sms", _("SMS")
        WECHAT = "wechat", _("WeChat")
        OTHER = "other", _("Other")

    class Result(models.TextChoices):
        ANSWERED = "answered", _("Answered")
        NO_ANSWER = "no_answer", _("No answer")
        BUSY = "busy", _("Busy")
        WRONG_NUMBER = "wrong_number", _("Wrong number")
        REFUSED = "refused", _("Refused to talk")
        MESSAGE_LEFT = "message_left", _("Message left")

    # Results that count against the rule pack's unanswered-attempt cap.
    UNANSWERED = (Result.NO_ANSWER, Result.BUSY)

    case = models.ForeignKey("collections_app.Case", on_delete=models.CASCADE, related_name="contact_attempts")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("collector")
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.CALL)
    party = models.CharField(_("who"), max_length=20, choices=Party.choices, default=Party.BORROWER)
    phone_number = models.CharField(_("number used"), max_length=32, blank=True)
    result = models.CharField(_("result"), max_length=20, choices=Result.choices)
    note = models.TextField(_("note"), blank=True)
    attempted_at = models.DateTimeField(_("time"))
    created_at = models.DateTimeField(auto_now_add=True)
    # Made once per form: the same form posted twice records one attempt (and counts once toward the cap).
    idempotency_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["-attempted_at", "-id"]
        indexes = [
            # The attempt cap counts a number's recent attempts.
            models.Index(fields=["phone_number", "attempted_at"], name="contact_number_time_idx"),
            models.Index(fields=["case", "-attempted_at"], name="contact_case_time_idx"),
            # The dashboard reads the attempts recorded since its tally's watermark.
            models.Index(fields=["created_at"], name="contact_recorded_idx"),
        ]
        verbose_name = _("contact attempt")
        verbose_name_plural = _("contact attempts")

    def __str__(self) -> str:
        return f"{self.case_id} {self.channel} {self.result}"

    @property
    def phone_masked(self) -> str:
        return pii.mask_phone(self.phone_number)

    @property
    def is_successful(self) -> bool:
        return self.result == self.Result.ANSWERED and self.party == Party.BORROWER


class VisitPlan(ChoiceLabels, models.Model):
    """The current preparation of a case's next visit (one per case, edited in place)."""

    case = models.OneToOneField("collections_app.Case", on_delete=models.CASCADE, related_name="visit_plan")
    contact_verified = models.BooleanField(_("contact details verified"), default=False)
    overdue_reason = models.TextField(_("overdue reason so far"), blank=True)
    history_reviewed = models.BooleanField(_("history reviewed"), default=False)
    talking_points = models.TextField(_("talking points"), blank=True)
    planned_at = models.DateTimeField(_("planned visit time"), null=True, blank=True)
    address = models.ForeignKey(
        "collections_app.BorrowerAddress",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("visit address"),
    )
    consent_outside_hours = models.BooleanField(_("borrower consented to a visit outside normal hours"), default=False)
    # The time the borrower asked to be visited in (the borrower link): the route arrives inside it.
    window_start = models.DateTimeField(_("the borrower asked for a visit from"), null=True, blank=True)
    window_end = models.DateTimeField(_("the borrower asked for a visit until"), null=True, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("visit preparation")
        verbose_name_plural = _("visit preparations")

    def __str__(self) -> str:
        return f"{self.case_id} {self.planned_at or '-'}"

    @property
    def checklist_complete(self) -> bool:
        return bool(
            self.contact_verified
            and self.history_reviewed
            and self.overdue_reason.strip()
            and self.talking_points.strip()
        )

    @property
    def ready(self) -> bool:
        return self.checklist_complete and self.planned_at is not None


class Visit(ChoiceLabels, models.Model):
    class GeoStatus(models.TextChoices):
        OK = "ok", _("Position recorded")
        DENIED = "denied", _("Permission denied")
        UNAVAILABLE = "unavailable", _("Position unavailable")

    class OverdueReason(models.TextChoices):
        INCOME_LOSS = "income_loss", _("Lost job or income")
        BUSINESS = "business", _("Business difficulties")
        ILLNESS = "illness", _("Illness or accident")
        FAMILY = "family", _("Family events")
        OTHER_DEBTS = "other_debts", _("Other debts")
        DISPUTE = "dispute", _("Disputes the debt")
        WILLFUL = "willful", _("Able but unwilling")
        OTHER = "other", _("Other")

    class Attitude(models.TextChoices):
        COOPERATIVE = "cooperative", _("Cooperative")
        HESITANT = "hesitant", _("Hesitant")
        RESISTANT = "resistant", _("Resistant")
        HOSTILE = "hostile", _("Hostile")

    class Outcome(models.TextChoices):
        AGREED_PLAN = "agreed_plan", _("Agreed to a plan")
        PROMISED = "promised", _("Promised to pay")
        REFUSED = "refused", _("Refused")
        NOT_HOME = "not_home", _("Not home")
        MOVED = "moved", _("Moved away")
        WRONG_ADDRESS = "wrong_address", _("Wrong address")
        OTHER = "other", _("Other")

    case = models.ForeignKey("collections_app.Case", on_delete=models.CASCADE, related_name="visits")
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("collector")
    )
    # Generated when the form is rendered; a resubmitted form (double tap, offline sync) finds its visit.
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    checked_in_at = models.DateTimeField(_("check-in"))
    checked_out_at = models.DateTimeField(_("check-out"), null=True, blank=True)
    # The collector's position, recorded only here, at check-in.
    lat = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(-90)), MaxValueValidator(Decimal(90))],
    )
    lng = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(-180)), MaxValueValidator(Decimal(180))],
    )
    accuracy_m = models.DecimalField(_("accuracy (m)"), max_digits=9, decimal_places=1, null=True, blank=True)
    geo_status = models.CharField(
        _("position"), max_length=12, choices=GeoStatus.choices, default=GeoStatus.UNAVAILABLE
    )
    identity_confirmed = models.BooleanField(_("identity and purpose stated"), default=False)
    met = models.CharField(_("who was met"), max_length=20, choices=Party.choices, blank=True)
    monthly_income = models.DecimalField(_("monthly income"), null=True, blank=True, **MONEY)
    monthly_expenses = models.DecimalField(_("monthly expenses"), null=True, blank=True, **MONEY)
    other_debt_payments = models.DecimalField(_("other monthly debt payments"), null=True, blank=True, **MONEY)
    overdue_reason = models.CharField(_("overdue reason"), max_length=20, choices=OverdueReason.choices, blank=True)
    overdue_reason_text = models.TextField(_("overdue reason, in words"), blank=True)
    attitude = models.CharField(_("attitude"), max_length=12, choices=Attitude.choices, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-checked_in_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True) | Q(checked_out_at__gte=models.F("checked_in_at")),
                name="visit_checkout_after_checkin",
            ),
            models.CheckConstraint(
                condition=(Q(lat__isnull=True) | (Q(lat__gte=-90) & Q(lat__lte=90)))
                & (Q(lng__isnull=True) | (Q(lng__gte=-180) & Q(lng__lte=180))),
                name="visit_position_in_range",
            ),
        ]
        indexes = [
            models.Index(fields=["case", "-checked_in_at"], name="visit_case_time_idx"),
            # The dashboard reads the visits recorded since its tally's watermark.
            models.Index(fields=["created_at"], name="visit_recorded_idx"),
        ]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")

    def __str__(self) -> str:
        return f"{self.case_id} {self.checked_in_at:%Y-%m-%d %H:%M} {self.outcome}"

    def get_absolute_url(self) -> str:
        return reverse("visit-detail", args=[self.pk])

    @property
    def has_position(self) -> bool:
        return self.lat is not None and self.lng is not None


def _photo_path(instance: "VisitPhoto", filename: str) -> str:
    # Never the uploader's file name: it may carry personal data and decides nothing here.
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"visit-photos/{instance.visit.case_id}/{uuid.uuid4().hex}.{ext}"


class VisitPhoto(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(_("photo"), upload_to=_photo_path, max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("visit photo")
        verbose_name_plural = _("visit photos")

    def __str__(self) -> str:
        return f"{self.visit_id} {self.sha256[:12]}"

    def get_absolute_url(self) -> str:
        return reverse("visit-photo", args=[self.pk])


class RouteOrder(models.Model):
    """A collector's hand-made visiting order for one day, and the stops whose time the borrower asked for.

    Kept in the database rather than the session: a session ends after 30 idle minutes, a field
    day does not.
    """

    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    # Case ids in the collector's order; empty means "the suggested order".
    case_ids = models.JSONField(_("order"), default=list, blank=True)
    # Case ids whose planned time the borrower asked for: the route keeps them at that time.
    fixed_time_case_ids = models.JSONField(_("times asked for"), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["collector", "day"], name="route_order_once_per_day")]
        verbose_name = _("route order")
        verbose_name_plural = _("route orders")

    def __str__(self) -> str:
        return f"{self.collector_id} {self.day}"


class SyncConflict(models.Model):
    """A visit captured offline that the server refused on sync; kept so nothing is silently lost."""

    class Reason(models.TextChoices):
        REASSIGNED = "reassigned", _("The case was reassigned to someone else")
        CLOSED = "closed", _("The case was closed")
        STAGE = "stage", _("The case is no longer in the visit stage")
        STORAGE = "storage", _("The server could not store the visit's files")

    idempotency_key = models.UUIDField(unique=True, editable=False)
    case = models.ForeignKey("collections_app.Case", on_delete=models.CASCADE, related_name="sync_conflicts")
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("collector")
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    message = models.CharField(_("message"), max_length=500)
    # The form fields as sent (no CSRF token); photos as name, type, size and SHA-256.
    payload = models.JSONField(_("rejected visit"), default=dict)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    discarded_at = models.DateTimeField(_("discarded by the collector"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("sync conflict")
        verbose_name_plural = _("sync conflicts")

    def __str__(self) -> str:
        return f"{self.case_id} {self.reason} {self.idempotency_key}"

    def get_absolute_url(self) -> str:
        return reverse("sync-conflict-detail", args=[self.pk])
