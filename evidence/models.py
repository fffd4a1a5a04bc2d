import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def _pack_path(instance: "EvidencePack", filename: str) -> str:
    return f"evidence-packs/{instance.case_id}/{uuid.uuid4().hex}-{filename}"


class EvidencePack(models.Model):
    """What is handed to legal for a case: the PDF, its manifest, and the chain heads they were built on."""

    class Language(models.TextChoices):
        ZH_HANS = "zh-hans", "简体中文"
        EN = "en", "English"

    case = models.ForeignKey("collections_app.Case", on_delete=models.PROTECT, related_name="evidence_packs")
    built_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    built_at = models.DateTimeField(_("built"), auto_now_add=True)
    summary = models.TextField(_("summary for legal"))
    language = models.CharField(_("language"), max_length=10, choices=Language.choices, default=Language.ZH_HANS)
    pdf = models.FileField(_("PDF"), upload_to=_pack_path, max_length=200)
    manifest = models.FileField(_("manifest"), upload_to=_pack_path, max_length=200)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64)
    manifest_sha256 = models.CharField(_("manifest SHA-256"), max_length=64)
    chain_seq = models.PositiveBigIntegerField(_("chain links"))
    chain_head = models.CharField(_("chain head"), max_length=64)
    chain_ok = models.BooleanField(_("chain verified when built"))

    class Meta:
        ordering = ["-built_at", "-id"]
        verbose_name = _("evidence pack")
        verbose_name_plural = _("evidence packs")

    def __str__(self) -> str:
        return f"{self.case_id} {self.built_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("evidence-pack-pdf", args=[self.pk])
