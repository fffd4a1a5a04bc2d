"""Aggregate tables behind the dashboard (README, "Dashboard", "Tallies").

Team, branch and collector are plain integer columns, not foreign keys: a tally row is a sum, kept for
history, and never reached through the ORM's relations. ``collector_id`` 0 means "no collector".
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 20, "decimal_places": 2}


class DayTally(models.Model):
    """Period facts summed per local day, team and collector: every fact recorded before the
    watermark (``TallyMark``) is in here exactly once; later ones are read live."""

    class Metric(models.TextChoices):
        STAY = "stay", _("stage stays")  # key: the stage left; amount: the stays' seconds
        VISIT = "visit", _("visits")
        CONTACT = "contact", _("contact attempts")
        PAYMENT = "payment", _("payments")  # amount: the sum paid
        CLOSURE = "closure", _("case closures")
        PLAN_END = "plan_end", _("plan ends")  # key: completed or defaulted

    metric = models.CharField(_("metric"), max_length=10, choices=Metric.choices)
    day = models.DateField(_("day"))
    team_id = models.IntegerField(_("team"))
    collector_id = models.IntegerField(_("collector"), default=0)
    key = models.CharField(_("key"), max_length=20, default="", blank=True)
    n = models.BigIntegerField(_("count"), default=0)
    amount = models.DecimalField(_("amount"), default=0, **MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "metric", "team_id", "collector_id", "key"], name="day_tally_one_row_per_group"
            )
        ]
        db_table = "collections_app_daytally"
        verbose_name = _("day tally")
        verbose_name_plural = _("day tallies")

    def __str__(self) -> str:
        return f"{self.metric} {self.day} team {self.team_id} collector {self.collector_id} {self.key}: {self.n}"


class TallyMark(models.Model):
    """How far ``DayTally`` goes: facts recorded before ``upto`` are summed there."""

    name = models.CharField(_("name"), max_length=30, primary_key=True)
    upto = models.DateTimeField(_("facts recorded before"))
    rolled_at = models.DateTimeField(_("rolled at"))

    class Meta:
        db_table = "collections_app_tallymark"
        verbose_name = _("tally watermark")
        verbose_name_plural = _("tally watermarks")

    def __str__(self) -> str:
        return f"{self.name} < {self.upto:%Y-%m-%d %H:%M}"


class StateTally(models.Model):
    """The current state summed (portfolio by branch, open cases by team, stage and collector, active
    plans by team), replaced as a whole every few minutes; every row carries when it was taken."""

    class Kind(models.TextChoices):
        PORTFOLIO = "portfolio", _("portfolio")  # key: bucket, key2: class; amount: overdue, amount2: outstanding
        OPEN_CASES = "open_cases", _("open cases")  # key: stage
        ACTIVE_PLANS = "plans", _("active plans")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    branch_id = models.IntegerField(_("branch"), default=0)
    team_id = models.IntegerField(_("team"), default=0)
    collector_id = models.IntegerField(_("collector"), default=0)
    key = models.CharField(_("key"), max_length=20, default="", blank=True)
    key2 = models.CharField(_("second key"), max_length=20, default="", blank=True)
    n = models.BigIntegerField(_("count"), default=0)
    amount = models.DecimalField(_("amount"), default=0, **MONEY)
    amount2 = models.DecimalField(_("second amount"), default=0, **MONEY)
    taken_at = models.DateTimeField(_("taken at"))
    as_of = models.DateField(_("as of"))

    class Meta:
        indexes = [models.Index(fields=["kind", "branch_id"], name="state_tally_kind_idx")]
        db_table = "collections_app_statetally"
        verbose_name = _("state tally")
        verbose_name_plural = _("state tallies")

    def __str__(self) -> str:
        return f"{self.kind} {self.as_of} {self.key} {self.key2}: {self.n}"
