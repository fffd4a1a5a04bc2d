"""Discrepancy flags: declared figures that conflict with what the bank already knows.

Each rule answers the flags it raises for one declaration, with a reason in words. The rules here read
what repayment may read (payments seen, the employer on file, the previous declaration or visit, the assets
seen at the visit). Apps above repayment add their own facts at start-up with ``register_fact_source``
(the risk app adds the imported statement history), so repayment never imports them.

Boundaries (README, "Repayment and follow-up"): a monthly average paid *above* the declared disposable
income is flagged (equal is not); a total that moved *more than* the configured share is flagged (exactly
the share is not); an asset seen beside an income *below* the floor is flagged (at the floor is not).
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import DecimalField, OuterRef, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from repayment import conf
from repayment.finances import Finances, Totals, from_declaration, latest_declaration
from repayment.models import MONEY, ZERO, DeclaredFigure, FinancialDeclaration, Payment
from visits.models import Visit
from visits.selectors import loaded_visits

DAYS_A_MONTH = Decimal("30")
_VISIT_FIGURES = ("monthly_income", "monthly_expenses", "other_debt_payments")


@dataclass(frozen=True)
class Flag:
    code: str  # payments | statements | employer | previous | asset
    reason: str
    category: str = ""  # the DeclaredFigure category the flag is about, when one


# fact source: (case, finances) -> flags. Registered by apps above repayment.
_sources: dict[str, Callable[..., list[Flag]]] = {}


def register_fact_source(name: str, source: Callable[..., list[Flag]]) -> None:
    _sources[name] = source


def money(value: Decimal) -> str:
    return number_format(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), 2, force_grouping=True)


def monthly_paid_above_disposable(*, monthly_paid: Decimal, finances: Finances, code: str, reason) -> list[Flag]:
    """The shared rule of payments and statements: paying more a month than the declared disposable income."""
    disposable = finances.declared.disposable
    if disposable is None or monthly_paid <= disposable:
        return []
    text = reason % {"paid": money(monthly_paid), "disposable": money(disposable)}
    return [Flag(code, text, DeclaredFigure.Category.INCOME)]


def _recent_payments(case_ref) -> QuerySet[Payment]:
    since = timezone.localdate() - dt.timedelta(days=conf.finance_payments_window_days())
    return Payment.objects.filter(case=case_ref, paid_on__gt=since)


def recent_payments_total() -> Subquery:
    """For the case query (``OuterRef``): the case's payments in the window ``payments_seen`` looks at."""
    total = _recent_payments(OuterRef("pk")).order_by().values("case").annotate(s=Sum("amount")).values("s")
    return Subquery(total, output_field=DecimalField(**MONEY))


def payments_seen(case, finances: Finances) -> list[Flag]:
    days = conf.finance_payments_window_days()
    if hasattr(case, "recent_payments_total"):  # read with the case (the case page)
        paid = case.recent_payments_total or ZERO
    else:
        paid = _recent_payments(case).aggregate(s=Sum("amount"))["s"] or ZERO
    if paid <= 0:
        return []
    monthly = paid * DAYS_A_MONTH / Decimal(days)
    return monthly_paid_above_disposable(
        monthly_paid=monthly,
        finances=finances,
        code="payments",
        reason=_("Payments seen average %(paid)s a month, more than the declared disposable income of %(disposable)s."),
    )


def _same_employer(a: str, b: str) -> bool:
    a, b = a.strip().casefold(), b.strip().casefold()
    return a in b or b in a


def employer_on_file(case, finances: Finances) -> list[Flag]:
    on_file = (case.account.borrower.employer or "").strip()
    if not on_file:
        return []
    salaries = [figure for figure in finances.figures if figure.kind == DeclaredFigure.Kind.SALARY]
    if not any(figure.amount > 0 for figure in salaries):
        return [
            Flag(
                "employer",
                _("The bank has an employer on file (%(employer)s) but no salary was declared.")
                % {"employer": on_file},
                DeclaredFigure.Category.INCOME,
            )
        ]
    flags = []
    for figure in salaries:
        if figure.employer.strip() and not _same_employer(figure.employer, on_file):
            flags.append(
                Flag(
                    "employer",
                    _("The declared employer (%(declared)s) is not the one on file (%(employer)s).")
                    % {"declared": figure.employer.strip(), "employer": on_file},
                    DeclaredFigure.Category.INCOME,
                )
            )
    return flags


def _previous(case, declaration: FinancialDeclaration) -> Totals | None:
    """The declaration before this one, or else the latest visit before it that recorded figures."""
    # ``earlier``: read with the declaration (``case_finances``)
    earlier = declaration.earlier if hasattr(declaration, "earlier") else latest_declaration(case, before=declaration)
    if earlier is not None:
        return from_declaration(earlier).declared
    visits = loaded_visits(case)  # the case page loaded them with the case, newest first
    if visits is not None:
        visit = next(
            (v for v in visits if v.checked_in_at < declaration.recorded_at and v.monthly_income is not None), None
        )
        row = None if visit is None else {name: getattr(visit, name) for name in _VISIT_FIGURES}
    else:
        row = (
            Visit.objects.filter(case=case, checked_in_at__lt=declaration.recorded_at, monthly_income__isnull=False)
            .order_by("-checked_in_at", "-id")
            .values(*_VISIT_FIGURES)
            .first()
        )
    if row is None:
        return None
    return Totals(row["monthly_income"], row["monthly_expenses"] or ZERO, row["other_debt_payments"] or ZERO)


def _moved(before: Decimal | None, now: Decimal | None, *, down: bool) -> Decimal | None:
    """The change in percent in the suspicious direction (income down, costs up), or None."""
    if before is None or now is None or before <= 0:
        return None
    change = (before - now) if down else (now - before)
    return change * 100 / before if change > 0 else None


def previous_declaration(case, finances: Finances) -> list[Flag]:
    previous = _previous(case, finances.declaration)
    if previous is None:
        return []
    limit = conf.finance_change_flag_percent()
    now = finances.declared
    since = _("since the previous declaration (%(before)s → %(now)s).")
    checks = [
        (DeclaredFigure.Category.INCOME, previous.income, now.income, True, _("Declared income fell by %(pct)s%%")),
        (
            DeclaredFigure.Category.EXPENSE,
            previous.expenses,
            now.expenses,
            False,
            _("Declared expenses rose by %(pct)s%%"),
        ),
        (DeclaredFigure.Category.DEBT, previous.debts, now.debts, False, _("Declared other debts rose by %(pct)s%%")),
    ]
    flags = []
    for category, before, current, down, text in checks:
        pct = _moved(before, current, down=down)
        if pct is not None and pct > limit:
            params = {"pct": f"{pct:.0f}", "before": money(before), "now": money(current)}
            flags.append(Flag("previous", f"{text % params} {since % params}", category))
    return flags


def asset_seen(case, finances: Finances) -> list[Flag]:
    assets = finances.declaration.assets_seen or []
    income = finances.declared.income or ZERO
    floor = conf.finance_asset_income_floor()
    if not assets or income >= floor:
        return []
    labels = ", ".join(finances.declaration.assets_seen_labels)
    return [
        Flag(
            "asset",
            _("Seen at the visit: %(assets)s, yet the declared income is %(income)s a month (below %(floor)s).")
            % {"assets": labels, "income": money(income), "floor": money(floor)},
            DeclaredFigure.Category.INCOME,
        )
    ]


RULES = [payments_seen, employer_on_file, previous_declaration, asset_seen]


def discrepancies(case, finances: Finances | None) -> list[Flag]:
    """Every flag on the case's current declaration (none when the figures come from a visit or nowhere)."""
    if finances is None or finances.declaration is None:
        return []
    flags = [flag for rule in RULES for flag in rule(case, finances)]
    for name in sorted(_sources):
        flags.extend(_sources[name](case, finances))
    return flags
