from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class RubricItem(models.TextChoices):
    """The visit review rubric: the seed's etiquette and the rule packs' prohibitions."""

    IDENTITY = "identity", _("Identity and purpose stated")
    LISTENED = "listened", _("Listened to the borrower's difficulties")
    SITUATION = "situation", _("Financial situation captured")
    PLAN = "plan", _("A plan discussed")
    CONDUCT = (
        "conduct",
        _("No prohibited conduct (threats, disclosure to third parties, contact outside permitted hours)"),
    )
    EVIDENCE = "evidence", _("Evidence complete")


class Verdict(models.TextChoices):
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")
    NOT_APPLICABLE = "na", _("Not applicable")


class PlaybookSection(models.TextChoices):
    """The part of a playbook a coaching note points the collector to."""

    POINTS = "points", _("Talking points")
    DOS = "dos", _("Do")
    DONTS = "donts", _("Don't")
    NEXT_STEPS = "next_steps", _("Next steps after a refusal")


class VisitReview(models.Model):
    """A supervisor's rubric review of one visit, chosen by sampling or picked by a supervisor."""

    class Reason(models.TextChoices):
        SAMPLED = "sampled", _("Random sample")
        NEW_COLLECTOR = "new_collector", _("Random sample (collector's first 30 days)")
        CONDUCT_COMPLAINT = "conduct_complaint", _("Random sample (after a conduct complaint)")
        PICKED = "picked", _("Picked by a supervisor")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        DONE = "done", _("Reviewed")

    visit = models.OneToOneField("visits.Visit", on_delete=models.CASCADE, related_name="review")
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("why reviewed"), max_length=20, choices=Reason.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    selected_at = models.DateTimeField(_("selected"), auto_now_add=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # {item: {"verdict": pass|fail|na, "note": ""}} for every RubricItem.
    items = models.JSONField(_("rubric"), default=dict, blank=True)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=1, null=True, blank=True)
    comment = models.TextField(_("coaching note"), blank=True)
    playbook = models.ForeignKey(
        "quality.Playbook",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("playbook"),
    )
    playbook_section = models.CharField(
        _("playbook section"), max_length=12, choices=PlaybookSection.choices, blank=True
    )
    unsafe_address = models.BooleanField(_("address unsafe: two collectors from now on"), default=False)
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    reply = models.TextField(_("collector's reply"), blank=True)
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)

    class Meta:
        ordering = ["-selected_at", "-id"]
        indexes = [
            models.Index(fields=["status", "selected_at"], name="review_queue_idx"),
            models.Index(fields=["collector", "reviewed_at"], name="review_collector_idx"),
        ]
        verbose_name = _("visit review")
        verbose_name_plural = _("visit reviews")

    def __str__(self) -> str:
        return f"{self.visit_id} {self.status}"

    def get_absolute_url(self) -> str:
        return reverse("review-detail", args=[self.pk])


def rubric_score(items: dict) -> Decimal | None:
    """Passed items as a share of the applicable ones, 0 to 100 with one decimal; None when none applies."""
    verdicts = [str((items.get(item) or {}).get("verdict", "")) for item in RubricItem.values]
    applicable = [v for v in verdicts if v in (Verdict.PASS, Verdict.FAIL)]
    if not applicable:
        return None
    passed = sum(v == Verdict.PASS for v in applicable)
    return (Decimal(100) * passed / len(applicable)).quantize(Decimal("0.1"))


class UnsafeAddress(models.Model):
    """An address where collectors go only in pairs (flagged by a review or after a visit)."""

    address = models.OneToOneField("collections_app.BorrowerAddress", on_delete=models.CASCADE, related_name="+")
    flagged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=300)
    flagged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("unsafe address")
        verbose_name_plural = _("unsafe addresses")

    def __str__(self) -> str:
        return str(self.address_id)


class SafetyCheckIn(models.Model):
    """A collector on site: the safety timer runs from check-in until check-out."""

    class Status(models.TextChoices):
        ON_SITE = "on_site", _("On site")
        CHECKED_OUT = "checked_out", _("Checked out")

    case = models.ForeignKey("collections_app.Case", on_delete=models.CASCADE, related_name="+")
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    companion = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("second collector"),
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.ON_SITE)
    checked_in_at = models.DateTimeField(_("check-in"))
    expected_minutes = models.PositiveSmallIntegerField(_("expected duration (minutes)"))
    # When the supervisor is alerted, then the manager: stored so the sweep is one indexed range.
    alert_due_at = models.DateTimeField()
    lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    checked_out_at = models.DateTimeField(_("check-out"), null=True, blank=True)
    alerted_at = models.DateTimeField(_("supervisor alerted"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("manager alerted"), null=True, blank=True)

    class Meta:
        ordering = ["-checked_in_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["collector"], condition=Q(status="on_site"), name="safety_one_open_checkin_per_collector"
            )
        ]
        indexes = [
            models.Index(fields=["alert_due_at"], condition=Q(status="on_site"), name="safety_due_idx"),
        ]
        verbose_name = _("safety check-in")
        verbose_name_plural = _("safety check-ins")

    def __str__(self) -> str:
        return f"{self.collector_id} {self.case_id} {self.status}"


class HelpRequest(models.Model):
    """ "I need help": the position goes to the supervisor at once. ``client_id`` makes a queued resend a no-op."""

    client_id = models.UUIDField(unique=True)
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey("collections_app.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    pressed_at = models.DateTimeField(_("pressed"))
    received_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        ordering = ["-pressed_at", "-id"]
        verbose_name = _("help request")
        verbose_name_plural = _("help requests")

    def __str__(self) -> str:
        return f"{self.collector_id} {self.pressed_at:%Y-%m-%d %H:%M}"


class Playbook(models.Model):
    """Talking points and do/don't lists for an overdue reason and an attitude (blank: any), in both languages."""

    class NextStep(models.TextChoices):
        SENIOR_REVISIT = "senior_revisit", _("Revisit with a senior colleague")
        OTHER_WINDOW = "other_window", _("Try a different time window")
        LETTER = "letter", _("Send a letter")
        LEGAL = "legal", _("Escalate to legal")

    title_en = models.CharField(_("title (English)"), max_length=120)
    title_zh = models.CharField(_("title (Chinese)"), max_length=120)
    overdue_reason = models.CharField(_("overdue reason"), max_length=20, blank=True)
    attitude = models.CharField(_("attitude"), max_length=12, blank=True)
    # One point per line.
    points_en = models.TextField(_("talking points (English)"))
    points_zh = models.TextField(_("talking points (Chinese)"))
    dos_en = models.TextField(_("do (English)"), blank=True)
    dos_zh = models.TextField(_("do (Chinese)"), blank=True)
    donts_en = models.TextField(_("don't (English)"), blank=True)
    donts_zh = models.TextField(_("don't (Chinese)"), blank=True)
    next_steps = models.JSONField(_("next steps after a refusal"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["overdue_reason", "attitude", "id"]
        verbose_name = _("playbook")
        verbose_name_plural = _("playbooks")

    def __str__(self) -> str:
        return self.title_en


class PlaybookUse(models.Model):
    """Which playbook points a collector used on a case, and which resistance next steps were taken."""

    case = models.ForeignKey("collections_app.Case", on_delete=models.CASCADE, related_name="+")
    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="uses")
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    points_used = models.JSONField(default=list, blank=True)  # indexes of the talking points
    steps_taken = models.JSONField(default=list, blank=True)  # Playbook.NextStep values
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "playbook"], name="playbook_use_once_per_case")]
        verbose_name = _("playbook use")
        verbose_name_plural = _("playbook uses")

    def __str__(self) -> str:
        return f"{self.case_id} {self.playbook_id}"
