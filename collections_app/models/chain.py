from django.db import models
from django.utils.translation import gettext_lazy as _


class ChainHead(models.Model):
    """The newest link of one hash chain (``audit`` or ``case:<id>``): its position and hash.

    Sealing a chain locks this row, so two workers sealing at once append one after the other; the head
    also catches a deleted tail (the last rows gone, the chain left behind them still consistent)."""

    key = models.CharField(_("chain"), max_length=40, unique=True)
    seq = models.PositiveBigIntegerField(_("links"), default=0)
    head_hash = models.CharField(_("head hash"), max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("chain head")
        verbose_name_plural = _("chain heads")

    def __str__(self) -> str:
        return f"{self.key} #{self.seq} {self.head_hash[:12]}"
