from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COLLECTOR = "collector", _("Collector")
    SUPERVISOR = "supervisor", _("Supervisor")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Administrator")


class BranchQuerySet(models.QuerySet):
    def supervised_by(self, user) -> "BranchQuerySet":
        """Branches of the teams the user supervises, as a subquery (no join, no DISTINCT)."""
        return self.filter(pk__in=Team.objects.filter(supervisor=user).values("branch"))

    def visible_to(self, user) -> "BranchQuerySet":
        if not user.is_authenticated:
            return self.none()
        return self if user.sees_everything else self.supervised_by(user)


class Branch(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=120)
    region = models.CharField(_("region"), max_length=120, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")

    objects = BranchQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("branch")
        verbose_name_plural = _("branches")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Team(models.Model):
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="teams", verbose_name=_("branch"))
    name = models.CharField(_("name"), max_length=120)
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supervised_teams",
        verbose_name=_("supervisor"),
    )

    class Meta:
        ordering = ["branch__code", "name"]
        constraints = [models.UniqueConstraint(fields=["branch", "name"], name="team_unique_name_per_branch")]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return f"{self.branch.code} / {self.name}"


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.COLLECTOR)
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="members", verbose_name=_("team")
    )
    region = models.CharField(
        _("region"), max_length=120, blank=True, help_text=_("Where a collector usually works; used by auto-assign.")
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def is_collector(self) -> bool:
        return self.role == Role.COLLECTOR

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def sees_everything(self) -> bool:
        """Managers and admins read across all branches."""
        return self.role in (Role.MANAGER, Role.ADMIN) or self.is_superuser
