import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast, Coalesce, Right
from django.urls import reverse
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from collections_app import pii
from collections_app.aging import AgingBucket, LoanClass, bucket_for, class_for, days_past_due, local_today
from collections_app.choice_labels import ChoiceLabels
from collections_app.models.org import Branch, Team

MONEY = {"max_digits": 16, "decimal_places": 2}

__all__ = ["AgingBucket", "LoanClass"]


class Product(models.TextChoices):
    PERSONAL_CONSUMER = "personal_consumer", _("Personal consumer loan")
    PERSONAL_BUSINESS = "personal_business", _("Personal business loan")
    MORTGAGE = "mortgage", _("Mortgage")
    AUTO = "auto", _("Auto loan")
    CREDIT_CARD = "credit_card", _("Credit card")
    SME = "sme", _("Small business loan")


class Stage(models.TextChoices):
    SCREENING = "screening", _("Screening")
    PREPARATION = "preparation", _("Preparation")
    VISIT = "visit", _("Visit")
    NEGOTIATION = "negotiation", _("Negotiation")
    FOLLOW_UP = "follow_up", _("Follow-up")
    CLOSED = "closed", _("Closed")


class CloseReason(models.TextChoices):
    CURED = "cured", _("Cured / paid")
    SETTLED = "settled", _("Settled")
    WRITTEN_OFF = "written_off", _("Written off")
    LEGAL = "legal", _("Escalated to legal")


class Borrower(models.Model):
    name = models.CharField(_("name"), max_length=200)
    # The clear ID number never reaches the database: only its ciphertext and a keyed
    # hash for exact lookup (see collections_app.pii).
    national_id_encrypted = models.TextField(_("national ID (encrypted)"), blank=True, editable=False)
    national_id_hash = models.CharField(max_length=64, blank=True, editable=False)
    # The last four characters only, for the search box ("find by the last digits of the ID"): the masked
    # ID shows them anyway, and four characters cannot be turned back into the number.
    national_id_last4 = models.CharField(max_length=4, blank=True, editable=False)
    employer = models.CharField(_("employer"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        # "The newest borrower with this ID" is one index probe. On the hash alone, PostgreSQL walked the
        # primary key backwards instead (most borrowers share the empty hash), once per imported row.
        indexes = [
            models.Index(fields=["national_id_hash", "-id"], name="borrower_nid_hash_idx"),
            models.Index(
                fields=["national_id_last4"], condition=~Q(national_id_last4=""), name="borrower_nid_last4_idx"
            ),
        ]
        # PostgreSQL also has a trigram index on UPPER(name) for the search box (migration 0015).
        verbose_name = _("borrower")
        verbose_name_plural = _("borrowers")

    def __str__(self) -> str:
        return self.name

    @property
    def national_id(self) -> str:
        return pii.decrypt(self.national_id_encrypted)

    def set_national_id(self, value: str) -> None:
        value = pii.normalise_national_id(value)
        self.national_id_encrypted = pii.encrypt(value)
        self.national_id_hash = pii.lookup_hash(value)
        self.national_id_last4 = pii.last4(value)

    @property
    def national_id_masked(self) -> str:
        return pii.mask_national_id(self.national_id)


class ContactParty(models.TextChoices):
    BORROWER = "borrower", _("Borrower")
    THIRD_PARTY = "third_party", _("Third party")


class ContactSource(models.TextChoices):
    FILE = "file", _("Bank records")
    BORROWER = "borrower", _("Told by the borrower")
    NEIGHBOUR = "neighbour", _("Neighbour")
    EMPLOYER = "employer", _("Employer")
    OTHER = "other", _("Other")


class ContactStatus(models.TextChoices):
    UNVERIFIED = "unverified", _("Unverified")
    CONFIRMED = "confirmed", _("Confirmed")
    WRONG = "wrong", _("Wrong")
    MOVED = "moved", _("Moved")


class ContactPoint(ChoiceLabels, models.Model):
    """What a phone and an address share as a contact point: who it belongs to, where it came from and
    whether it was verified (skip tracing). Rows from the bank's records are ``file`` / ``unverified``."""

    # Contact points that are never dialled (phones) or routed (addresses).
    DEAD = (ContactStatus.WRONG, ContactStatus.MOVED)
    # Which verification state may follow which; "moved" is for addresses only (``CAN_MOVE``).
    TRANSITIONS = {
        ContactStatus.UNVERIFIED: (ContactStatus.CONFIRMED, ContactStatus.WRONG, ContactStatus.MOVED),
        ContactStatus.CONFIRMED: (ContactStatus.WRONG, ContactStatus.MOVED),
        ContactStatus.WRONG: (ContactStatus.CONFIRMED,),
        ContactStatus.MOVED: (ContactStatus.CONFIRMED,),
    }
    CAN_MOVE = True

    party = models.CharField(
        _("belongs to"),
        max_length=20,
        choices=ContactParty.choices,
        default=ContactParty.BORROWER,
        db_default=ContactParty.BORROWER,
    )
    holder = models.CharField(_("whose (third party)"), max_length=100, blank=True, default="", db_default="")
    source = models.CharField(
        _("source"),
        max_length=20,
        choices=ContactSource.choices,
        default=ContactSource.FILE,
        db_default=ContactSource.FILE,
    )
    status = models.CharField(
        _("verification"),
        max_length=20,
        choices=ContactStatus.choices,
        default=ContactStatus.UNVERIFIED,
        db_default=ContactStatus.UNVERIFIED,
    )
    found_on = models.DateField(_("found on"), null=True, blank=True)
    found_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("found by"),
    )
    found_case = models.ForeignKey(
        "collections_app.Case",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("found on case"),
    )
    status_changed_at = models.DateTimeField(_("verification changed"), null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_dead(self) -> bool:
        return self.status in self.DEAD

    @property
    def found_in_field(self) -> bool:
        return self.source != ContactSource.FILE

    def next_statuses(self) -> list[tuple[str, str]]:
        """The verification states this point may move to, as (value, label)."""
        return [
            (s, ContactStatus(s).label)
            for s in self.TRANSITIONS.get(self.status, ())
            if self.CAN_MOVE or s != ContactStatus.MOVED
        ]


class BorrowerPhone(ContactPoint):
    class Label(models.TextChoices):
        MOBILE = "mobile", _("Mobile")
        HOME = "home", pgettext_lazy("phone", "Home")
        WORK = "work", pgettext_lazy("phone", "Work")
        RELATIVE = "relative", _("Relative")

    borrower = models.ForeignKey(Borrower, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("number"), max_length=32)
    label = models.CharField(_("label"), max_length=20, choices=Label.choices, default=Label.MOBILE)
    is_primary = models.BooleanField(_("primary"), default=False)
    # Computed by the database, so that bulk inserts (imports, the feed) keep it too: the search box
    # finds a borrower by the last four digits of a phone with one index probe.
    number_last4 = models.GeneratedField(
        expression=Right("number", 4), output_field=models.CharField(max_length=4), db_persist=True
    )
    CAN_MOVE = False

    class Meta(ContactPoint.Meta):
        ordering = ["-is_primary", "id"]
        indexes = [models.Index(fields=["number_last4"], name="phone_last4_idx")]
        verbose_name = _("phone")
        verbose_name_plural = _("phones")

    def __str__(self) -> str:
        return self.masked

    @property
    def pii_field(self) -> str:
        """The reveal action's field name for this number (includes/pii_value.html)."""
        return f"phone:{self.pk}"

    @property
    def masked(self) -> str:
        return pii.mask_phone(self.number)


class BorrowerAddress(ContactPoint):
    class Label(models.TextChoices):
        HOME = "home", pgettext_lazy("address", "Home")
        WORK = "work", pgettext_lazy("address", "Work")
        OTHER = "other", _("Other")

    borrower = models.ForeignKey(Borrower, on_delete=models.CASCADE, related_name="addresses")
    label = models.CharField(_("label"), max_length=20, choices=Label.choices, default=Label.HOME)
    text = models.CharField(_("address"), max_length=300)
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
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta(ContactPoint.Meta):
        ordering = ["-is_primary", "id"]
        verbose_name = _("address")
        verbose_name_plural = _("addresses")

    def __str__(self) -> str:
        return self.text

    @property
    def has_position(self) -> bool:
        return self.lat is not None and self.lng is not None


class DelinquentAccountQuerySet(models.QuerySet):
    def visible_to(self, user) -> "DelinquentAccountQuerySet":
        """The one rule for which accounts a user may read."""
        if not user.is_authenticated:
            return self.none()
        if user.sees_everything:
            return self
        if user.is_supervisor:
            # A subquery rather than a join + DISTINCT: PostgreSQL can then walk the
            # screening index and stop at the page limit.
            return self.filter(branch__in=Branch.objects.supervised_by(user))
        if user.is_collector:
            return self.filter(cases__assigned_collector=user).distinct()
        return self.none()


class DelinquentAccount(ChoiceLabels, models.Model):
    account_no = models.CharField(_("account number"), max_length=40, unique=True)
    borrower = models.ForeignKey(Borrower, on_delete=models.PROTECT, related_name="accounts")
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("branch"))
    product = models.CharField(_("product"), max_length=30, choices=Product.choices)
    principal = models.DecimalField(_("principal"), default=Decimal("0.00"), **MONEY)
    outstanding_balance = models.DecimalField(_("outstanding balance"), **MONEY)
    overdue_amount = models.DecimalField(_("overdue amount"), **MONEY)
    overdue_since = models.DateField(_("overdue since"), null=True, blank=True)
    last_payment_date = models.DateField(_("last payment date"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    # Screening support, kept current by services: whether an open case exists, broken
    # promises so far, the last successful contact, and the time-independent sort key
    # (collections_app.priority: score minus the DPD weight times today's day number).
    has_open_case = models.BooleanField(_("has an open case"), default=False)
    broken_promises = models.PositiveIntegerField(_("broken promises"), default=0)
    last_contact_at = models.DateTimeField(_("last successful contact"), null=True, blank=True)
    screening_key = models.DecimalField(max_digits=14, decimal_places=4, default=0, editable=False)
    # The chance of payment the risk model gives the account, stored when its scores are written (NULL while
    # it has none: collections_app.account_risk). The database recomputes the expected-recovery order's key
    # (probability x overdue amount; -1 without a probability, so unscored accounts sort last on every
    # database) whenever either changes, so that order reads an index instead of computing every row.
    payment_probability = models.FloatField(_("probability of payment"), null=True, blank=True, editable=False)
    recovery_key = models.GeneratedField(
        expression=Coalesce(
            models.F("payment_probability") * Cast("overdue_amount", models.FloatField()),
            models.Value(-1.0),
            output_field=models.FloatField(),
        ),
        output_field=models.FloatField(),
        db_persist=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DelinquentAccountQuerySet.as_manager()

    class Meta:
        ordering = ["overdue_since", "-overdue_amount", "id"]
        indexes = [
            models.Index(fields=["branch", "overdue_since"], name="account_branch_since_idx"),
            models.Index(fields=["overdue_since", "overdue_amount"], name="account_since_amount_idx"),
            # The screening list: accounts without an open case, best first (ties: larger amount, older
            # overdue date, id), keyset-paginated (collections_app.selectors.screening.SCREENING_ORDER).
            models.Index(
                models.F("screening_key").desc(),
                models.F("overdue_amount").desc(),
                models.F("overdue_since").asc(),  # PostgreSQL: NULLS LAST by default
                models.F("id").desc(),
                condition=Q(has_open_case=False, overdue_amount__gt=0),
                name="account_screening_idx",
            ),
            # Screening in the expected-recovery order (RECOVERY_ORDER: unscored accounts last, then the
            # seed's rule); keyset pages seek here as they do on account_screening_idx.
            models.Index(
                models.F("recovery_key").desc(),
                models.F("screening_key").desc(),
                models.F("overdue_amount").desc(),
                models.F("overdue_since").asc(),
                models.F("id").desc(),
                condition=Q(has_open_case=False, overdue_amount__gt=0),
                name="account_recovery_idx",
            ),
            # Screening filtered by product (and DPD range) in a branch: only the candidate rows, so the
            # heap is read for the accounts that match rather than for every account in the DPD range.
            models.Index(
                fields=["branch", "product", "overdue_since"],
                condition=Q(has_open_case=False, overdue_amount__gt=0),
                name="account_screen_product_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(outstanding_balance__gte=0) & Q(overdue_amount__gte=0) & Q(principal__gte=0),
                name="account_amounts_not_negative",
            ),
        ]
        verbose_name = _("delinquent account")
        verbose_name_plural = _("delinquent accounts")

    def __str__(self) -> str:
        return self.account_no

    def dpd(self, as_of: dt.date | None = None) -> int:
        return days_past_due(self.overdue_since, self.overdue_amount, as_of or local_today())

    def aging_bucket(self, as_of: dt.date | None = None) -> str:
        return bucket_for(self.dpd(as_of))

    def loan_class(self, as_of: dt.date | None = None) -> str:
        return class_for(self.dpd(as_of))

    def get_aging_bucket_display(self) -> str:
        return AgingBucket(self.aging_bucket()).label

    def get_loan_class_display(self) -> str:
        return LoanClass(self.loan_class()).label


class CaseQuerySet(models.QuerySet):
    def visible_to(self, user) -> "CaseQuerySet":
        """The one rule for which cases a user may read: collector own, supervisor own team, manager all."""
        if not user.is_authenticated:
            return self.none()
        if user.sees_everything:
            return self
        if user.is_supervisor:
            return self.filter(team__supervisor=user)
        if user.is_collector:
            return self.filter(assigned_collector=user)
        return self.none()

    def open(self) -> "CaseQuerySet":
        return self.exclude(stage=Stage.CLOSED)


class Case(ChoiceLabels, models.Model):
    account = models.ForeignKey(DelinquentAccount, on_delete=models.PROTECT, related_name="cases")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="cases", verbose_name=_("team"))
    # Only collections_app.services.cases.case_transition writes this column.
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, default=Stage.SCREENING)
    # Indexed by case_collector_id_idx and case_collector_queue_idx, which both lead with it.
    assigned_collector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,
        related_name="assigned_cases",
        verbose_name=_("collector"),
    )
    priority_score = models.DecimalField(_("priority"), max_digits=12, decimal_places=2, default=Decimal("0"))
    priority_parts = models.JSONField(_("priority parts"), default=dict, blank=True)
    overdue_amount_at_open = models.DecimalField(_("overdue amount at opening"), **MONEY)
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("opened by")
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    close_reason = models.CharField(_("close reason"), max_length=20, choices=CloseReason.choices, blank=True)
    next_action = models.CharField(_("next action"), max_length=200, blank=True)
    next_action_due = models.DateTimeField(_("next action due"), null=True, blank=True)
    cured_candidate = models.BooleanField(_("cured candidate"), default=False)
    stage_changed_at = models.DateTimeField(_("in stage since"), auto_now_add=True)
    # The latest payment date, kept by repayment.signals on every payment: the dashboard's recovery base
    # ("cases paid into during a period ending today") is then an index range, not a scan of payments.
    last_paid_on = models.DateField(_("last paid on"), null=True, blank=True, editable=False)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["next_action_due", "id"]
        constraints = [
            # One open case per account: a second "open case" click races to this index.
            models.UniqueConstraint(
                fields=["account"], condition=~Q(stage="closed"), name="case_one_open_case_per_account"
            ),
        ]
        indexes = [
            models.Index(fields=["assigned_collector", "stage", "next_action_due"], name="case_collector_queue_idx"),
            # A collector's cases newest first (the API's cursor order): an index range, not a walk of
            # every case id backwards filtering on the collector.
            models.Index(fields=["assigned_collector", "-id"], name="case_collector_id_idx"),
            models.Index(fields=["team", "stage"], name="case_team_stage_idx"),
            models.Index(
                fields=["closed_at"], include=["team"], condition=Q(stage="closed"), name="case_closed_at_idx"
            ),
            models.Index(
                fields=["last_paid_on"],
                include=["overdue_amount_at_open", "team"],
                condition=Q(last_paid_on__isnull=False),
                name="case_last_paid_idx",
            ),
        ]
        verbose_name = _("case")
        verbose_name_plural = _("cases")

    def __str__(self) -> str:
        return f"#{self.pk} {self.account.account_no}"

    def get_absolute_url(self) -> str:
        return reverse("case-detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.stage != Stage.CLOSED

    @property
    def next_action_text(self) -> str:
        """The next action in the reader's language: a step the system wrote is a msgid the catalogue
        translates; a note a person typed is shown as written."""
        return gettext(self.next_action) if self.next_action else ""


class CaseEvent(models.Model):
    class Kind(models.TextChoices):
        OPENED = "opened", _("Case opened")
        ASSIGNED = "assigned", _("Assigned")
        REASSIGNED = "reassigned", _("Reassigned")
        TRANSITION = "transition", _("Stage changed")
        CONTACT_ATTEMPT = "contact_attempt", _("Contact attempt")
        CONTACT_FOUND = "contact_found", _("Contact found")
        CONTACT_STATUS = "contact_status", _("Contact verification changed")
        PREPARATION = "preparation", _("Preparation updated")
        VISIT = "visit", _("Visit logged")
        PROMISE = "promise", _("Promise to pay")
        PLAN = "plan", _("Repayment plan")
        PAYMENT = "payment", _("Payment")
        FOLLOW_UP = "follow_up", _("Follow-up")
        ACCOUNT_UPDATED = "account_updated", _("Account updated")
        NOTE = "note", _("Note")
        REFUSED = "refused", _("Action refused")

    # Indexed by event_case_time_idx, which leads with it: one index less to write per event.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", db_index=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # No `choices=` on purpose: other apps add kinds without a migration here.
    kind = models.CharField(_("kind"), max_length=40)
    from_stage = models.CharField(_("from stage"), max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(_("to stage"), max_length=20, choices=Stage.choices, blank=True)
    payload = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    # On a transition: how long the case stayed in from_stage (written by case_transition), so the
    # dashboard's average days per stage is one grouped AVG instead of a lookup per event.
    stage_seconds = models.PositiveIntegerField(_("seconds in stage"), null=True, blank=True, editable=False)
    # The case's hash chain (collections_app.chain): empty until sealed, just after the writing transaction.
    chain_seq = models.PositiveBigIntegerField(_("chain position"), null=True, blank=True, editable=False)
    prev_hash = models.CharField(_("previous hash"), max_length=64, blank=True, editable=False)
    chain_hash = models.CharField(_("chain hash"), max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["case", "-created_at"], name="event_case_time_idx"),
            # The dashboard's period blocks: transitions and refusals in a date range.
            models.Index(fields=["kind", "created_at"], name="event_kind_time_idx"),
            # The events still to seal: a few at any time, found without reading the sealed ones.
            models.Index(fields=["case", "id"], condition=Q(chain_hash=""), name="event_unsealed_idx"),
        ]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"

    def get_kind_display(self) -> str:
        try:
            return str(self.Kind(self.kind).label)
        except ValueError:
            return self.kind
