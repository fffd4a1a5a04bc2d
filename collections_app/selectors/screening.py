"""Reads for screening, assignment and workload; always scoped to what the user may see."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import models
from django.db.models import Count, Q, QuerySet, Sum

from collections_app import aging, priority
from collections_app.aging import local_today
from collections_app.models import Branch, Case, DelinquentAccount, Product, Role, Stage, User

PAGE_SIZE = 50
WORKLOAD_STAGES = [stage for stage in Stage.values if stage != Stage.CLOSED]


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
    return accounts.order_by("-screening_key", "-id")


# --- keyset pagination -------------------------------------------------------------------


def encode_cursor(account: DelinquentAccount) -> str:
    return f"{account.screening_key}_{account.pk}"


def decode_cursor(value: str | None) -> tuple[Decimal, int] | None:
    """``"<key>_<id>"`` or None for anything malformed (the first page, never an error)."""
    if not value:
        return None
    key, _sep, pk = value.rpartition("_")
    try:
        key_value, pk_value = Decimal(key), int(pk)
    except (InvalidOperation, ValueError):
        return None
    if not key_value.is_finite() or abs(key_value) >= Decimal("1e10"):
        return None
    return key_value, pk_value


@dataclass
class ScreeningPage:
    rows: list
    next_cursor: str | None
    prev_cursor: str | None
    today: dt.date


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
    """One page in ``(screening_key DESC, id DESC)`` order, after or before a cursor row.

    Keyset, not OFFSET: the index seeks to the cursor (``key <= k`` bounds the scan; the OR
    breaks ties by id), so page 1000 costs what page 1 costs. No total count is taken.
    """
    today = local_today()
    labels = {"product": _labels(Product.choices), "class": _labels(aging.LoanClass.choices)}
    accounts = screening_accounts(user, filters, today=today).select_related("borrower", "branch")
    after_key, before_key = decode_cursor(after), decode_cursor(before)
    if before_key and not after_key:
        key, pk = before_key
        window = accounts.filter(screening_key__gte=key).filter(Q(screening_key__gt=key) | Q(pk__gt=pk))
        rows = list(window.order_by("screening_key", "id")[: size + 1])
        has_prev = len(rows) > size
        rows = rows[:size][::-1]
        has_next = True
    else:
        if after_key:
            key, pk = after_key
            accounts = accounts.filter(screening_key__lte=key).filter(Q(screening_key__lt=key) | Q(pk__lt=pk))
        rows = list(accounts[: size + 1])
        has_next = len(rows) > size
        rows = rows[:size]
        has_prev = after_key is not None
    return ScreeningPage(
        rows=[_with_score(account, today, labels) for account in rows],
        next_cursor=encode_cursor(rows[-1]) if rows and has_next else None,
        prev_cursor=encode_cursor(rows[0]) if rows and has_prev else None,
        today=today,
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
