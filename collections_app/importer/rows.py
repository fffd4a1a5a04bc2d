"""Columns of the import file and the validation of one row into an ``ImportRow`` or a list of errors."""

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from collections_app.importer.report import UNREADABLE
from collections_app.models import Product

REQUIRED_COLUMNS = ("account_no", "borrower_name", "outstanding_balance", "overdue_amount")
OPTIONAL_COLUMNS = (
    "national_id",
    "phone",
    "address",
    "branch_code",
    "product",
    "principal",
    "overdue_since",
    "days_past_due",
    "last_payment_date",
    "currency",
    "lat",
    "lng",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
MAX_LENGTHS = {"account_no": 40, "borrower_name": 200, "phone": 32, "address": 300, "branch_code": 20}
MONEY_LIMIT = Decimal(10) ** 14
CENT = Decimal("0.01")
MICRO = Decimal("0.000001")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
PRODUCTS = frozenset(Product.values)  # Product.values rebuilds its list on every access

# Reasons, one wording per error kind (the report and the tests use them).
MISSING_KEY = _("missing account number")
REQUIRED = _("required value missing")
BAD_NUMBER = _("not a number")
NEGATIVE = _("negative amount")
BAD_DATE = _("not a date (YYYY-MM-DD)")
FUTURE_DATE = _("date after the as-of date")
OVERDUE_WITHOUT_DATE = _("overdue amount without overdue_since or days_past_due")
DUPLICATE = _("duplicate account_no in the file (first in row %(row)s)")
UNKNOWN_BRANCH = _("unknown branch")
BRANCH_NOT_YOURS = _("branch not yours")
BRANCH_REQUIRED = _("branch_code is required for a new account")
UNKNOWN_PRODUCT = _("unknown product")
TOO_LONG = _("longer than %(max)s characters")
OUT_OF_RANGE = _("out of range")
BAD_CURRENCY = _("not a three-letter currency code")
NUL_BYTE = _("contains a NUL byte")
BAD_BYTES = _("bytes that are not text in the file's encoding")
UNKNOWN_COLUMN = _("unknown column, ignored")
MISSING_COLUMN = _("required column missing")


class RowError(Exception):
    def __init__(self, column: str, value, reason):
        self.column, self.value, self.reason = column, value, reason
        super().__init__(str(reason))


@dataclass(slots=True)
class ImportRow:
    row: int
    account_no: str
    borrower_name: str
    outstanding_balance: Decimal
    overdue_amount: Decimal
    overdue_since: dt.date | None
    # None: not given (keep the current value of an existing account, default for a new one).
    national_id: str = ""
    phone: str = ""
    address: str = ""
    branch_code: str = ""
    product: str | None = None
    principal: Decimal | None = None
    last_payment_date: dt.date | None = None
    currency: str | None = None
    lat: Decimal | None = None
    lng: Decimal | None = None


def cell_text(value) -> str:
    """A spreadsheet cell as text: empty for none, 12 for 12.0 (XLSX numbers), surrounding spaces cut."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _decimal(column: str, value, *, places: Decimal = CENT) -> Decimal | None:
    if isinstance(value, bool):
        raise RowError(column, value, BAD_NUMBER)
    text = repr(value) if isinstance(value, int | float) else cell_text(value).replace(",", "").replace(" ", "")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise RowError(column, value, BAD_NUMBER) from None
    if not number.is_finite():
        raise RowError(column, value, BAD_NUMBER)
    try:
        rounded = number.quantize(places)
    except InvalidOperation:  # too many digits for the precision
        raise RowError(column, value, OUT_OF_RANGE) from None
    if rounded != number:
        raise RowError(column, value, BAD_NUMBER)
    return rounded


def _amount(column: str, value) -> Decimal | None:
    number = _decimal(column, value)
    if number is None:
        return None
    if number < 0:
        raise RowError(column, value, NEGATIVE)
    if number >= MONEY_LIMIT:
        raise RowError(column, value, OUT_OF_RANGE)
    return number


def _date(column: str, value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = cell_text(value)
    if not text:
        return None
    match = _DATE.match(text)
    try:
        if not match:
            raise ValueError
        return dt.date(*map(int, match.groups()))
    except ValueError:
        raise RowError(column, value, BAD_DATE) from None


def _coordinate(column: str, value, limit: int) -> Decimal | None:
    number = _decimal(column, value, places=MICRO) if cell_text(value) else None
    if number is not None and abs(number) > limit:
        raise RowError(column, value, OUT_OF_RANGE)
    return number


def _days(value) -> int | None:
    number = _decimal("days_past_due", value, places=Decimal(1))
    if number is None:
        return None
    if number < 0 or number > 36500:
        raise RowError("days_past_due", value, OUT_OF_RANGE)
    return int(number)


def _product(value) -> str | None:
    text = cell_text(value)
    if not text:
        return None
    if text in PRODUCTS:
        return text
    raise RowError("product", value, UNKNOWN_PRODUCT)


def _currency(value) -> str | None:
    text = cell_text(value).upper()
    if not text:
        return None
    if not _CURRENCY.match(text):
        raise RowError("currency", value, BAD_CURRENCY)
    return text


def _collect(errors: list, column: str, parse, *args):
    try:
        return parse(column, *args) if column else parse(*args)
    except RowError as error:
        errors.append(error)
        return None


def _unreadable(cells: dict) -> list[RowError]:
    if not UNREADABLE.search("".join(v for v in cells.values() if isinstance(v, str))):
        return []
    errors = []
    for column, value in cells.items():
        found = UNREADABLE.search(value) if isinstance(value, str) else None
        if found:
            errors.append(RowError(column, value, NUL_BYTE if found.group() == "\x00" else BAD_BYTES))
    return errors


def validate_row(number: int, cells: dict, *, as_of: dt.date) -> ImportRow | list[RowError]:
    """One row of cells → an ``ImportRow``, or every problem found in it (a cell that is not text in
    the file's encoding or holds a NUL: only that, since nothing else in it can be read)."""
    errors = _unreadable(cells)
    if errors:
        return errors
    texts = {}
    for column in ("account_no", "borrower_name", "national_id", "phone", "address", "branch_code"):
        texts[column] = cell_text(cells.get(column))
        limit = MAX_LENGTHS.get(column)
        if limit and len(texts[column]) > limit:
            errors.append(RowError(column, cells.get(column), TOO_LONG % {"max": limit}))
    if not texts["account_no"]:
        errors.append(RowError("account_no", cells.get("account_no"), MISSING_KEY))
    if not texts["borrower_name"]:
        errors.append(RowError("borrower_name", cells.get("borrower_name"), REQUIRED))
    balance = _collect(errors, "outstanding_balance", _amount, cells.get("outstanding_balance"))
    overdue = _collect(errors, "overdue_amount", _amount, cells.get("overdue_amount"))
    for column, value in (("outstanding_balance", balance), ("overdue_amount", overdue)):
        if value is None and not any(e.column == column for e in errors):
            errors.append(RowError(column, cells.get(column), REQUIRED))
    principal = _collect(errors, "principal", _amount, cells.get("principal"))
    since = _collect(errors, "overdue_since", _date, cells.get("overdue_since"))
    paid = _collect(errors, "last_payment_date", _date, cells.get("last_payment_date"))
    days = _collect(errors, "", _days, cells.get("days_past_due"))
    product = _collect(errors, "", _product, cells.get("product"))
    currency = _collect(errors, "", _currency, cells.get("currency"))
    lat = _collect(errors, "lat", _coordinate, cells.get("lat"), 90)
    lng = _collect(errors, "lng", _coordinate, cells.get("lng"), 180)
    for column, value in (("overdue_since", since), ("last_payment_date", paid)):
        if value is not None and value > as_of:
            errors.append(RowError(column, cells.get(column), FUTURE_DATE))
    date_given = since is not None or days is not None
    date_invalid = any(e.column in ("overdue_since", "days_past_due") for e in errors)
    if overdue is not None and overdue > 0 and not date_given and not date_invalid:
        errors.append(RowError("overdue_since", cells.get("overdue_since"), OVERDUE_WITHOUT_DATE))
    if errors:
        return errors
    if overdue == 0:
        since = None
    elif since is None:
        since = as_of - dt.timedelta(days=days)
    return ImportRow(
        row=number,
        account_no=texts["account_no"],
        borrower_name=texts["borrower_name"],
        outstanding_balance=balance,
        overdue_amount=overdue,
        overdue_since=since,
        national_id=texts["national_id"],
        phone=texts["phone"],
        address=texts["address"],
        branch_code=texts["branch_code"],
        product=product,
        principal=principal,
        last_payment_date=paid,
        currency=currency,
        lat=lat,
        lng=lng,
    )
