from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from collections_app.choice_labels import ChoiceLabels


class Complaint(ChoiceLabels, models.Model):
    """A borrower's complaint: logged by staff from a call or filed through the self-service link."""

    class Category(models.TextChoices):
        CONDUCT = "conduct", _("Conduct")
        CONTACT = "contact", _("Contact time or frequency")
        THIRD_PARTY = "third_party", _("Disclosure to a third party")
        AMOUNT = "amount", _("Amount disputed")
        OTHER = "other", _("Other")

    class Source(models.TextChoices):
        STAFF = "staff", _("Logged by staff")
        LINK = "link", _("Self-service link")

    case = models.ForeignKey("collections_app.Case", on_delete=models.CASCADE, related_name="complaints")
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.STAFF)
    text = models.TextField(_("complaint"), max_length=4000)
    collector_named = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("collector named"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_complaints",
        verbose_name=_("owner"),
    )
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("received"), auto_now_add=True)
    ack_due = models.DateTimeField(_("acknowledge by"))
    resolve_due = models.DateTimeField(_("resolve by"))
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolution_note = models.TextField(_("resolution"), max_length=4000, blank=True)
    # Set once by the sweep (compare-and-set), so a manager is told about an overdue complaint once.
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The overdue sweep and the open list: complaints not yet resolved.
            models.Index(fields=["resolve_due"], condition=models.Q(resolved_at=None), name="complaint_open_idx"),
        ]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_category_display()}"

    def get_absolute_url(self) -> str:
        return reverse("complaint-detail", kwargs={"pk": self.pk})

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    def is_overdue(self, now) -> bool:
        if not self.is_open:
            return False
        return (self.acknowledged_at is None and self.ack_due < now) or self.resolve_due < now


class BorrowerLink(models.Model):
    """A borrower's self-service link: an opaque random id, signed with its creation time into the URL
    (``voice.links``). No account number or ID is in the URL; revoking or expiry ends it."""

    case = models.ForeignKey("collections_app.Case", on_delete=models.CASCADE, related_name="borrower_links")
    token_id = models.CharField(max_length=43, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"))
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("self-service link")
        verbose_name_plural = _("self-service links")

    def __str__(self) -> str:
        return f"link #{self.pk} (case {self.case_id})"

    def is_active(self, now) -> bool:
        return self.revoked_at is None and now < self.expires_at


class VisitRating(models.Model):
    """A borrower's rating of a visit through the link (1-5; CSAT counts 4 and 5), kept as a row so the
    dashboard groups it by collector, team and period. The collector rated is the one of the case's latest
    visit (else the link's creator); the team is the case's at the time."""

    case = models.ForeignKey("collections_app.Case", on_delete=models.CASCADE, related_name="visit_ratings")
    link = models.ForeignKey(BorrowerLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("collector"),
    )
    team = models.ForeignKey("collections_app.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    rating = models.PositiveSmallIntegerField(_("rating"))
    comment = models.TextField(_("comment"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("rated"), auto_now_add=True)

    # A rating of these counts as satisfied (CSAT).
    SATISFIED = 4

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5), name="visit_rating_1_to_5")
        ]
        # The dashboard reads a period's ratings.
        indexes = [models.Index(fields=["created_at"], name="visit_rating_time_idx")]
        verbose_name = _("visit rating")
        verbose_name_plural = _("visit ratings")

    def __str__(self) -> str:
        return f"{self.case_id} {self.rating}/5"
