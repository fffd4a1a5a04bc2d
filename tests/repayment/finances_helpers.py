"""Shared set-up for the declared vs verified finances tests."""

from decimal import Decimal

from django.test import TestCase

from repayment.models import DeclaredFigure
from repayment.services.finances import declaration_record, evidence_attach, figure_verify
from tests.visits.helpers import image_upload

D = Decimal


def declare(case, actor, *figures, source="negotiation", assets=(), key=None):
    """``figures``: (kind, amount[, employer]) tuples."""
    rows = [{"kind": f[0], "amount": D(f[1]), "employer": f[2] if len(f) > 2 else ""} for f in figures]
    declaration, _created = declaration_record(
        case=case, actor=actor, source=source, figures=rows, assets_seen=assets, idempotency_key=key
    )
    return declaration


def figure(declaration, kind) -> DeclaredFigure:
    return declaration.figures.get(kind=kind)


def attach(fig, actor, kind="payslip"):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return evidence_attach(figure=fig, actor=actor, kind=kind, upload=image_upload())


def verify(fig, actor, amount=None):
    evidence = attach(fig, actor)
    return figure_verify(
        figure=fig, actor=actor, evidence=evidence, verified_amount=None if amount is None else D(amount)
    )
