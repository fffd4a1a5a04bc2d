"""Reads for screening, assignment and workload; always scoped to what the user may see."""

import datetime as dt
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import models
from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from collections_app import account_risk, aging, priority
from collections_app.aging import local_today
from collections_app.models import Branch, Case, DelinquentAccount, Product, Role, Stage, User

PAGE_SIZE = 50
# Best first: the score, then the seed's rule for ties (larger overdue amount, then longer overdue:
# the older overdue date), then the id so the order is total. The stored key rounds the amount term to
# the cent, so ¥51,686 and ¥51,696 at the same DPD share a key and the amount decides.
SCREENING_ORDER = ("-screening_key", "-overdue_amount", F("overdue_since").asc(nulls_last=True), "-id")
REVERSE_ORDER = ("screening_key", "overdue_amount", F("overdue_since").desc(nulls_first=True), "id")
WORKLOAD_STAGES = [stage for stage in Stage.values if stage != Stage.CLOSED]


class Sort(models.TextChoices):
    """The list's orders: the seed's rule (the default) or expected recovery, accounts without a score last
    and, among equals, the seed's rule."""

    PRIORITY = "priority", _("Priority (the default)")
    EXPECTED_RECOVERY = "expected_recovery", _("Expected recovery")


# The stored key (DelinquentAccount.recovery_key, -1 without a score) walks account_recovery_idx.
RECOVERY_ORDER = ("-recovery_key", *SCREENING_ORDER)
RECOVERY_REVERSE = ("recovery_key", *REVERSE_ORDER)
NO_RECOVERY = -1.0


def visible_accounts(user: User) -> QuerySet:
    """The accounts the user may screen (``visible_to`` is a semi-join, so the keyset walk
    on ``account_screening_idx`` stops at the page limit)."""
    return DelinquentAccount.objects.visible_to(user)


def visible_branches(user: User) -> QuerySet:
    return Branch.objects.visible_to(user).order_by("code")


def _apply_dpd(accounts: QuerySet, low: int | None, high: int | None, today: dt.date) -> QuerySet:
    # DPD is never stored: a DPD range is a range of overdue_since dates.
    if low is None and high is None:
        return accounts
    return accounts.filter(**aging.overdue_since_range(low, high, today))


def screening_accounts(user: User, filters: dict | None = None, *, today: dt.date | None = None) -> QuerySet:
    """Accounts with something overdue and no open case, visible to the user, filtered, best first.

    ``has_open_case=False, overdue_amount>0`` is exactly the partial index's condition, so the
    database walks ``account_screening_idx`` in key order.
    """
    filters = filters or {}
    today = today or local_today()
    accounts = visible_accounts(user).filter(has_open_case=False, overdue_amount__gt=0)
    if filters.get("branch"):
        accounts = accounts.filter(branch=filters["branch"])
    if filters.get("product"):
        accounts = accounts.filter(product=filters["product"])
    if filters.get("bucket"):
        accounts = _apply_dpd(accounts, *aging.bucket_range(filters["bucket"]), today)
    if filters.get("loan_class"):
        accounts = _apply_dpd(accounts, *aging.class_range(filters["loan_class"]), today)
    accounts = _apply_dpd(accounts, filters.get("dpd_min"), filters.get("dpd_max"), today)
    if filters.get("amount_min") is not None:
        accounts = accounts.filter(overdue_amount__gte=filters["amount_min"])
    if filters.get("amount_max") is not None:
        accounts = accounts.filter(overdue_amount__lte=filters["amount_max"])
    if filters.get("q"):
        q = filters["q"].strip()
        accounts = accounts.filter(Q(account_no__istartswith=q) | Q(borrower__name__icontains=q))
    # Each row's risk rides on it as subqueries (no query per row); expected recovery is a stored column.
    accounts = account_risk.with_risk(accounts)
    if filters.get("sort") == Sort.EXPECTED_RECOVERY:
        return accounts.order_by(*RECOVERY_ORDER)
    return accounts.order_by(*SCREENING_ORDER)


# --- keyset pagination -------------------------------------------------------------------

NO_DATE = "none"
# In the expected-recovery order a cursor starts with the row's expected recovery (a float's repr, or none).
CURSOR_PATTERN = (
    r"^((\d{1,16}(\.\d{1,17})?(e-\d{1,3})?|none)_)?"
    r"-?\d{1,10}(\.\d{1,4})?_\d{1,14}(\.\d{1,2})?_(\d{4}-\d{2}-\d{2}|none)_[1-9]\d{0,18}$"
)


@dataclass(frozen=True)
class Cursor:
    """A row's place in ``SCREENING_ORDER``: key, overdue amount, overdue date (may be None), id; in the
    expected-recovery order also the row's recovery key (``NO_RECOVERY`` without a score)."""

    key: Decimal
    amount: Decimal
    since: dt.date | None
    pk: int
    by_recovery: bool = False
    recovery: float | None = None


RECOVERY_VALUE = re.compile(r"\d{1,16}(\.\d{1,17})?(e-\d{1,3})?")


def encode_cursor(account: DelinquentAccount, sort: str = Sort.PRIORITY) -> str:
    since = account.overdue_since.isoformat() if account.overdue_since else NO_DATE
    seed = f"{account.screening_key}_{account.overdue_amount}_{since}_{account.pk}"
    if sort != Sort.EXPECTED_RECOVERY:
        return seed
    # The value the database ordered by, exactly: a float's repr reads back as the same float.
    value = account.recovery_key
    return f"{NO_DATE if value is None or value < 0 else repr(value)}_{seed}"


def decode_cursor(value: str | None, sort: str = Sort.PRIORITY) -> Cursor | None:
    """``"<key>_<amount>_<date|none>_<id>"`` (``"<recovery|none>_"`` first in the expected-recovery order),
    or None for anything malformed or made for the other order."""
    if not value:
        return None
    parts = value.split("_")
    by_recovery = sort == Sort.EXPECTED_RECOVERY
    recovery = NO_RECOVERY if by_recovery else None
    if by_recovery:
        if len(parts) != 5:
            return None
        head, *parts = parts
        if head != NO_DATE:
            if not RECOVERY_VALUE.fullmatch(head):
                return None
            recovery = float(head)
            if not math.isfinite(recovery):
                return None
    if len(parts) != 4:
        return None
    key, amount, since, pk = parts
    try:
        cursor = Cursor(
            key=Decimal(key),
            amount=Decimal(amount),
            since=None if since == NO_DATE else dt.date.fromisoformat(since),
            pk=int(pk),
            by_recovery=by_recovery,
            recovery=recovery,
        )
    except (InvalidOperation, ValueError):
        return None
    if not (cursor.key.is_finite() and cursor.amount.is_finite()) or abs(cursor.key) >= Decimal("1e10"):
        return None
    if not (0 <= cursor.amount < Decimal("1e14") and 0 < cursor.pk < 2**63):
        return None
    return cursor


def _beyond(cursor: Cursor, *, forward: bool) -> Q:
    """The rows after the cursor's row in ``SCREENING_ORDER`` (forward) or before it (backward).

    The leading ``screening_key`` bound lets the index seek; the rest spells out the tie-breaks, with
    a missing overdue date sorting last.
    """
    lt, gt = ("lt", "gt") if forward else ("gt", "lt")
    same_key = Q(screening_key=cursor.key)
    same_amount = same_key & Q(overdue_amount=cursor.amount)
    if cursor.since is None:
        later_date = Q(pk__in=[]) if forward else Q(overdue_since__isnull=False)
        same_date = Q(overdue_since__isnull=True)
    else:
        later_date = Q(**{f"overdue_since__{gt}": cursor.since})
        if forward:
            later_date |= Q(overdue_since__isnull=True)
        same_date = Q(overdue_since=cursor.since)
    bound = Q(**{f"screening_key__{lt}e": cursor.key})
    return bound & (
        Q(**{f"screening_key__{lt}": cursor.key})
        | (same_key & Q(**{f"overdue_amount__{lt}": cursor.amount}))
        | (same_amount & later_date)
        | (same_amount & same_date & Q(**{f"pk__{lt}": cursor.pk}))
    )


def _beyond_recovery(cursor: Cursor, *, forward: bool) -> Q:
    """The rows after (before) the cursor's row in ``RECOVERY_ORDER``: a lower (higher) recovery key (the
    unscored accounts' -1 after every expected recovery), and the seed's order among equals. The leading
    bound lets the index seek."""
    lt = "lt" if forward else "gt"
    bound = Q(**{f"recovery_key__{lt}e": cursor.recovery})
    same = Q(recovery_key=cursor.recovery) & _beyond(cursor, forward=forward)
    return bound & (Q(**{f"recovery_key__{lt}": cursor.recovery}) | same)


def _after(cursor: Cursor, *, forward: bool) -> Q:
    return _beyond_recovery(cursor, forward=forward) if cursor.by_recovery else _beyond(cursor, forward=forward)


@dataclass
class ScreeningPage:
    rows: list
    next_cursor: str | None
    prev_cursor: str | None
    today: dt.date
    sort: str = Sort.PRIORITY


def _labels(choices) -> dict[str, str]:
    # Each label translated once per page: ``get_FOO_display()`` rebuilds and hashes the whole
    # (lazy) choice list on every call, ~0.3 ms a cell over 50 rows.
    return {value: str(label) for value, label in choices}


def _with_score(account: DelinquentAccount, today: dt.date, labels: dict | None = None) -> DelinquentAccount:
    labels = labels or {"product": _labels(Product.choices), "class": _labels(aging.LoanClass.choices)}
    account.parts = priority.account_score_parts(account, as_of=today)
    account.score = priority.score_total(account.parts)
    account.dpd_today = account.dpd(today)
    account.bucket_today = aging.bucket_for(account.dpd_today)
    loan_class = aging.class_for(account.dpd_today)
    account.class_today = labels["class"].get(loan_class, loan_class)
    account.product_label = labels["product"].get(account.product, account.product)
    return account


def screening_page(
    user: User, filters: dict | None = None, *, after: str | None = None, before: str | None = None, size=PAGE_SIZE
) -> ScreeningPage:
    """One page in ``SCREENING_ORDER`` (or ``RECOVERY_ORDER``), after or before a cursor row.

    Keyset, not OFFSET: the index seeks to the cursor (``key <= k`` bounds the scan; the ORs
    break ties as the order does), so page 1000 costs what page 1 costs. No total count is taken.
    """
    today = local_today()
    sort = (filters or {}).get("sort") or Sort.PRIORITY
    labels = {"product": _labels(Product.choices), "class": _labels(aging.LoanClass.choices)}
    accounts = screening_accounts(user, filters, today=today).select_related("borrower", "branch")
    after_key, before_key = decode_cursor(after, sort), decode_cursor(before, sort)
    if before_key and not after_key:
        window = accounts.filter(_after(before_key, forward=False))
        reverse = RECOVERY_REVERSE if sort == Sort.EXPECTED_RECOVERY else REVERSE_ORDER
        rows = list(window.order_by(*reverse)[: size + 1])
        has_prev = len(rows) > size
        rows = rows[:size][::-1]
        has_next = True
    else:
        if after_key:
            accounts = accounts.filter(_after(after_key, forward=True))
        rows = list(accounts[: size + 1])
        has_next = len(rows) > size
        rows = rows[:size]
        has_prev = after_key is not None
    account_risk.decorate(rows)
    return ScreeningPage(
        rows=[_with_score(account, today, labels) for account in rows],
        next_cursor=encode_cursor(rows[-1], sort) if rows and has_next else None,
        prev_cursor=encode_cursor(rows[0], sort) if rows and has_prev else None,
        today=today,
        sort=sort,
    )


# --- assignment and workload -------------------------------------------------------------


def team_open_cases(user: User) -> QuerySet:
    """The open cases of the user's teams, unassigned first, then most urgent."""
    return (
        Case.objects.visible_to(user)
        .open()
        .select_related("account__borrower", "account__branch", "assigned_collector", "team")
        .annotate(
            assigned_last=models.Case(
                models.When(assigned_collector__isnull=True, then=models.Value(0)), default=models.Value(1)
            )
        )
        .order_by("assigned_last", "-priority_score", "id")
    )


def assignable_collectors(user: User, *, team=None) -> QuerySet:
    """Active collectors of the teams the user supervises (or of one team)."""
    collectors = User.objects.filter(role=Role.COLLECTOR, is_active=True)
    if team is not None:
        collectors = collectors.filter(team=team)
    if not user.sees_everything:
        collectors = collectors.filter(team__supervisor=user)
    return collectors.select_related("team").order_by("team__name", "username", "id")


def workload(user: User) -> list[User]:
    """Each collector of the user's teams (manager: all) with open cases by stage and overdue total.

    One grouped query: collectors LEFT JOIN their cases and accounts, counted per stage.
    """
    collectors = User.objects.filter(role=Role.COLLECTOR, team__isnull=False)
    if not user.sees_everything:
        collectors = collectors.filter(team__supervisor=user)
    open_case = Q(assigned_cases__stage__in=WORKLOAD_STAGES)
    counts = {f"n_{stage}": Count("assigned_cases", filter=Q(assigned_cases__stage=stage)) for stage in WORKLOAD_STAGES}
    rows = list(
        collectors.select_related("team__branch")
        .annotate(
            **counts,
            open_total=Count("assigned_cases", filter=open_case),
            overdue_total=Sum("assigned_cases__account__overdue_amount", filter=open_case),
        )
        .order_by("team__branch__code", "team__name", "username", "id")
    )
    for row in rows:
        row.by_stage = [getattr(row, f"n_{stage}") for stage in WORKLOAD_STAGES]
        row.overdue_total = row.overdue_total or Decimal("0.00")
    return rows
