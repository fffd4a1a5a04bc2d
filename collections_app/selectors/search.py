"""The search box: accounts the user may see, by borrower name, account number or the last digits of a
phone or ID number.

Every match runs on an index: the names and account numbers on trigram indexes over ``UPPER(col)`` on
PostgreSQL (migration 0015), the last four digits of phones and IDs on b-trees, a whole ID number on its
keyed hash. Each kind of match is its own branch of one ``UNION`` so that each branch keeps its index; an
``OR`` across the joined tables would make PostgreSQL scan every account. At most ``SEARCH_CAP`` matches
are listed: a query that matches more is asked to be narrowed, so a common surname never sorts a million
rows.
"""

import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.urls import reverse

from collections_app import pii
from collections_app.models import BorrowerPhone, Case, DelinquentAccount, Stage, User

SEARCH_CAP = 200
SEARCH_PAGE_SIZE = 25
MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 64
# A trigram index needs three characters to narrow a match inside a value; shorter text matches the
# start of a name or account number (still on the same index: the padding trigrams mark the start).
CONTAINS_FROM = 3

_LAST4 = re.compile(r"\d{3}[\dX]")
_FULL_ID = re.compile(r"\d{15}|\d{17}[\dX]")


@dataclass(frozen=True)
class SearchTerms:
    text: str
    digits_only: bool

    @classmethod
    def parse(cls, raw: str) -> "SearchTerms | None":
        text = " ".join((raw or "").split())[:MAX_QUERY_LENGTH]
        if len(text) < MIN_QUERY_LENGTH:
            return None
        return cls(text=text, digits_only=bool(re.fullmatch(r"[\d\s\-]+", text)))

    @property
    def compact(self) -> str:
        """Without spaces or dashes, upper case: how phones and ID numbers are typed in many ways."""
        return re.sub(r"[\s\-]", "", self.text).upper()


def _text_match(field: str, text: str) -> Q:
    lookup = "icontains" if len(text) >= CONTAINS_FROM else "istartswith"
    return Q(**{f"{field}__{lookup}": text})


def _conditions(terms: SearchTerms) -> list[Q]:
    """One condition per index; the UNION of the accounts each finds is the result."""
    compact = terms.compact
    conditions = [_text_match("account_no", terms.text)]
    if terms.digits_only and compact != terms.text:
        conditions.append(_text_match("account_no", compact))
    if not terms.digits_only:
        conditions.append(_text_match("borrower__name", terms.text))
    if _LAST4.fullmatch(compact):
        conditions.append(Q(borrower__national_id_last4=compact))
    if compact.isdigit() and len(compact) >= 4:
        phone = Q(borrower__phones__number_last4=compact[-4:])
        if len(compact) > 4:
            phone &= Q(borrower__phones__number__endswith=compact)
        conditions.append(phone)
    if _FULL_ID.fullmatch(compact):
        conditions.append(Q(borrower__national_id_hash=pii.lookup_hash(compact)))
    return conditions


def search_account_ids(user: User, terms: SearchTerms) -> list[int]:
    """Ids of the accounts the user may see that match, at most ``SEARCH_CAP + 1`` (one query)."""
    visible = DelinquentAccount.objects.visible_to(user).order_by()
    branches = [visible.filter(condition).values_list("id", flat=True) for condition in _conditions(terms)]
    if connection.features.supports_slicing_ordering_in_compound:
        # A limit in each branch lets a broad match ("SZ0" in every account number) stop at the cap
        # instead of reading every match for the UNION to remove duplicates from.
        branches = [branch[: SEARCH_CAP + 1] for branch in branches]
    matches = branches[0].union(*branches[1:]) if len(branches) > 1 else branches[0]
    return list(matches[: SEARCH_CAP + 1])


def search_rows(user: User, account_ids: list[int]) -> QuerySet[DelinquentAccount]:
    """The matched accounts with what a row shows: borrower, branch, the primary phone (masked by the
    page) and the latest case the user may open, all in one query."""
    latest_case = Case.objects.visible_to(user).filter(account=OuterRef("pk")).order_by("-id")
    primary_phone = BorrowerPhone.objects.filter(borrower=OuterRef("borrower_id")).order_by("-is_primary", "id")
    return (
        DelinquentAccount.objects.filter(id__in=account_ids)
        .select_related("borrower", "branch")
        .annotate(
            case_id=Subquery(latest_case.values("id")[:1]),
            case_stage=Subquery(latest_case.values("stage")[:1]),
            primary_phone=Subquery(primary_phone.values("number")[:1]),
        )
        .order_by("borrower__name", "account_no", "id")
    )


def decorate_rows(rows) -> list[DelinquentAccount]:
    """A page of ``search_rows`` with its masked values and links computed once per row."""
    stages = {value: str(label) for value, label in Stage.choices}
    rows = list(rows)
    for row in rows:
        row.phone_masked = pii.mask_phone(row.primary_phone or "")
        row.national_id_masked = row.borrower.national_id_masked
        row.case_url = reverse("case-detail", args=[row.case_id]) if row.case_id else ""
        row.case_stage_label = stages.get(row.case_stage, "")
    return rows
