"""The history of each contact point (skip tracing): when a phone or an address was found, by whom, from
which source, and every change of its verification state."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from collections_app.choice_labels import ChoiceLabels
from collections_app.models.cases import BorrowerAddress, BorrowerPhone, Case, ContactSource, ContactStatus


class ContactPointChange(ChoiceLabels, models.Model):
    class Action(models.TextChoices):
        FOUND = "found", _("Found")
        STATUS = "status", _("Verification changed")

    class Origin(models.TextChoices):
        VISIT = "visit", _("Visit")
        CONTACT_ATTEMPT = "contact_attempt", _("Contact attempt")
        CASE = "case", _("Case page")
        API = "api", _("API")

    # Exactly one of the two (a check constraint says so); deleted with its contact point.
    phone = models.ForeignKey(BorrowerPhone, on_delete=models.CASCADE, null=True, blank=True, related_name="changes")
    address = models.ForeignKey(
        BorrowerAddress, on_delete=models.CASCADE, null=True, blank=True, related_name="changes"
    )
    case = models.ForeignKey(Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("what"), max_length=10, choices=Action.choices)
    origin = models.CharField(_("where"), max_length=20, choices=Origin.choices)
    source = models.CharField(_("source"), max_length=20, choices=ContactSource.choices, blank=True)
    from_status = models.CharField(_("from"), max_length=20, choices=ContactStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=ContactStatus.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(phone__isnull=False) & Q(address__isnull=True))
                | (Q(phone__isnull=True) & Q(address__isnull=False)),
                name="contact_change_one_point",
            ),
        ]
        verbose_name = _("contact point change")
        verbose_name_plural = _("contact point changes")

    def __str__(self) -> str:
        return f"{self.phone_id or self.address_id} {self.action} {self.to_status}"
