"""The borrower's monthly finances as affordability reads them: the newest of the latest declaration
(``FinancialDeclaration``) and the latest visit that recorded figures, with which figures are verified.

- A declaration counts each figure at its verified amount once verified, at its declared amount until then;
  a category it does not mention (expenses, other debts) counts as zero.
- A visit's figures are declared and never verified.
- The *verified capacity* counts only verified income (none verified: zero) against all expenses and debts,
  so it is never above the capacity the borrower's own word gives.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import OuterRef, Prefetch, Q, Subquery, prefetch_related_objects

from collections_app.json_rows import as_datetime, as_money, decode_rows, json_rows
from collections_app.models import Case
from repayment.affordability import suggest_plan
from repayment.models import ZERO, DeclaredFigure, FinanceEvidence, FinancialDeclaration
from visits.selectors import latest_financials

Category = DeclaredFigure.Category


@dataclass(frozen=True)
class Totals:
    income: Decimal | None
    expenses: Decimal | None
    debts: Decimal | None

    @property
    def disposable(self) -> Decimal | None:
        if self.income is None:
            return None
        return self.income - (self.expenses or ZERO) - (self.debts or ZERO)


@dataclass
class Finances:
    """What affordability knows of the borrower, from one declaration or one visit."""

    source: str  # "declaration" or "visit"
    declared: Totals  # the borrower's word
    effective: Totals  # verified amounts where verified
    verified_income: Decimal | None  # None: no income figure is verified
    declaration: FinancialDeclaration | None = None
    figures: list[DeclaredFigure] = field(default_factory=list)
    visit_id: int | None = None
    visited_at: object = None

    @property
    def unverified(self) -> list[DeclaredFigure]:
        return [figure for figure in self.figures if not figure.is_verified]

    @property
    def all_unverified(self) -> bool:
        return self.source == "visit" or not any(figure.is_verified for figure in self.figures)

    def as_figures(self) -> dict:
        """The keys ``visits.selectors.latest_financials`` answers, for the pages that show them."""
        return {
            "monthly_income": self.effective.income,
            "monthly_expenses": self.effective.expenses,
            "other_debt_payments": self.effective.debts,
            "visit_id": self.visit_id,
            "visited_at": self.visited_at,
            "declaration": self.declaration,
            "unverified": self.unverified,
            "source": self.source,
        }


def _sum(figures, category: str, attr: str, *, none_if_empty: bool) -> Decimal | None:
    values = [getattr(figure, attr) for figure in figures if figure.category == category]
    if not values:
        return None if none_if_empty else ZERO
    return sum(values, ZERO)


def declaration_totals(figures: list[DeclaredFigure], attr: str = "amount") -> Totals:
    return Totals(
        income=_sum(figures, Category.INCOME, attr, none_if_empty=True),
        expenses=_sum(figures, Category.EXPENSE, attr, none_if_empty=False),
        debts=_sum(figures, Category.DEBT, attr, none_if_empty=False),
    )


def figures_prefetch(*, with_evidence: bool = True) -> Prefetch:
    """A declaration's figures; ``with_evidence``: with each figure's evidence files too (the finances page
    lists them; the case page's panel shows none)."""
    figures = DeclaredFigure.objects.select_related("evidence", "verified_by").order_by("id")
    if with_evidence:
        figures = figures.prefetch_related(Prefetch("evidence_items", queryset=FinanceEvidence.objects.order_by("id")))
    return Prefetch("figures", queryset=figures)


# What the case page's panel reads of a figure (every field but the evidence files and the verifier's row).
_FIGURE_FIELDS = (
    "id",
    "category",
    "kind",
    "amount",
    "employer",
    "status",
    "verified_amount",
    "evidence_id",
    "verified_by_id",
    "verified_at",
    "verification_note",
)


def figure_rows() -> Subquery:
    """For a declaration query (``OuterRef``): the declaration's figures as one JSON column (``figure_rows``),
    so the case page reads them with the declarations instead of in a query of their own."""
    figures = DeclaredFigure.objects.filter(declaration=OuterRef("pk"))
    return json_rows(figures, parent="declaration", **{name: name for name in _FIGURE_FIELDS})


def _read_figures(declaration: FinancialDeclaration) -> list[DeclaredFigure]:
    figures = []
    for row in decode_rows(declaration.figure_rows):
        figure = DeclaredFigure(
            **{name: row[name] for name in _FIGURE_FIELDS if name not in ("amount", "verified_amount", "verified_at")},
            declaration_id=declaration.pk,
            amount=as_money(row["amount"]),
            verified_amount=as_money(row["verified_amount"]),
            verified_at=as_datetime(row["verified_at"]),
        )
        figures.append(figure)
    return sorted(figures, key=lambda figure: figure.pk)  # the order of ``figures_prefetch``


def declaration_figures(declaration: FinancialDeclaration) -> list[DeclaredFigure]:
    """The declaration's figures, oldest first: from its ``figure_rows`` column when read with it."""
    if hasattr(declaration, "figure_rows"):
        return _read_figures(declaration)
    return list(declaration.figures.all())


def latest_declaration(case: Case, *, before: FinancialDeclaration | None = None) -> FinancialDeclaration | None:
    declarations = FinancialDeclaration.objects.filter(case=case).select_related("recorded_by", "visit")
    if before is not None:
        declarations = declarations.filter(
            Q(recorded_at__lt=before.recorded_at) | Q(recorded_at=before.recorded_at, id__lt=before.pk)
        )
    return declarations.prefetch_related(figures_prefetch()).order_by("-recorded_at", "-id").first()


def from_declaration(declaration: FinancialDeclaration) -> Finances:
    figures = declaration_figures(declaration)
    verified = [figure for figure in figures if figure.is_verified]
    return Finances(
        source="declaration",
        declared=declaration_totals(figures),
        effective=declaration_totals(figures, "effective_amount"),
        verified_income=_sum(verified, Category.INCOME, "verified_amount", none_if_empty=True),
        declaration=declaration,
        figures=figures,
        visit_id=declaration.visit_id,
    )


def from_visit(figures: dict) -> Finances:
    totals = Totals(figures["monthly_income"], figures["monthly_expenses"], figures["other_debt_payments"])
    return Finances(
        source="visit",
        declared=totals,
        effective=totals,
        verified_income=None,
        visit_id=figures["visit_id"],
        visited_at=figures["visited_at"],
    )


def case_finances(
    case: Case, *, declarations: list[FinancialDeclaration] | None = None, with_evidence: bool = True
) -> Finances | None:
    """The newest of the latest declaration and the latest visit with figures; None when neither exists.
    ``declarations``: the case's declarations, newest first, when the caller already read them (its first
    gets its figures here, so no second read of the same row; so does the one before it, which the
    discrepancy check compares with, as ``declaration.earlier``); declarations read with ``figure_rows``
    already hold their figures."""
    if declarations is None:
        declaration = latest_declaration(case)
    else:
        declaration = declarations[0] if declarations else None
        if declaration is not None:
            if not hasattr(declaration, "figure_rows"):
                prefetch_related_objects(declarations[:2], figures_prefetch(with_evidence=with_evidence))
            declaration.earlier = declarations[1] if len(declarations) > 1 else None
    visit = latest_financials(case)
    if declaration is not None and (visit is None or declaration.recorded_at >= visit["visited_at"]):
        return from_declaration(declaration)
    return from_visit(visit) if visit is not None else None


def capacity(totals: Totals, *, amount: Decimal) -> Decimal | None:
    """The monthly capacity of ``repayment.affordability`` (never below zero); None without an income."""
    if totals.income is None:
        return None
    suggestion = suggest_plan(
        income=totals.income, expenses=totals.expenses, other_debt_payments=totals.debts, amount=amount
    )
    return max(suggestion.capacity or ZERO, ZERO)


def verified_capacity(finances: Finances, *, amount: Decimal) -> Decimal | None:
    """Only verified income against every expense and debt (declared or verified). A visit's figures are never
    verified: their verified income is nothing, so a plan on them alone needs the supervisor's note."""
    verified_income = finances.verified_income if finances.source == "declaration" else None
    totals = Totals(verified_income or ZERO, finances.effective.expenses, finances.effective.debts)
    return capacity(totals, amount=amount)
