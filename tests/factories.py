import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from collections_app.models import (
    Borrower,
    BorrowerAddress,
    BorrowerPhone,
    Branch,
    Case,
    DelinquentAccount,
    Product,
    Role,
    Stage,
    Team,
    User,
)

PASSWORD = "correct-horse-battery"


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"B{n:03d}")
    name = factory.Sequence(lambda n: f"Branch {n}")
    region = "Suzhou"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    branch = factory.SubFactory(BranchFactory)
    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.COLLECTOR
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class BorrowerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Borrower
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Borrower {n}")
    employer = "ACME"

    @factory.post_generation
    def national_id(obj, create, extracted, **kwargs):
        obj.set_national_id(extracted or "32100219900101123X")
        if create:
            obj.save()

    @factory.post_generation
    def contacts(obj, create, extracted, **kwargs):
        if create:
            BorrowerPhone.objects.create(borrower=obj, number="13812345678", is_primary=True)
            BorrowerAddress.objects.create(
                borrower=obj, text="Suzhou Road 1", lat=Decimal("31.3"), lng=Decimal("120.6"), is_primary=True
            )


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DelinquentAccount

    account_no = factory.Sequence(lambda n: f"ACC{n:08d}")
    borrower = factory.SubFactory(BorrowerFactory)
    branch = factory.SubFactory(BranchFactory)
    product = Product.PERSONAL_CONSUMER
    principal = Decimal("100000.00")
    outstanding_balance = Decimal("80000.00")
    overdue_amount = Decimal("5000.00")
    overdue_since = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=45))


class CaseFactory(factory.django.DjangoModelFactory):
    """A case row straight in the database (tests of reads); writes go through services."""

    class Meta:
        model = Case

    account = factory.SubFactory(AccountFactory)
    team = factory.SubFactory(TeamFactory)
    stage = Stage.SCREENING
    overdue_amount_at_open = factory.LazyAttribute(lambda o: o.account.overdue_amount)


def visit_plan_ready(case, actor, **values):
    """A complete visit preparation with a planned time: what the move preparation → visit requires."""
    from visits.models import VisitPlan

    defaults = {
        "contact_verified": True,
        "history_reviewed": True,
        "overdue_reason": "Lost a job in spring",
        "talking_points": "Ask about the new job; offer instalments.",
        "planned_at": timezone.now() + dt.timedelta(days=1),
        "updated_by": actor,
    }
    plan, _ = VisitPlan.objects.update_or_create(case=case, defaults={**defaults, **values})
    return plan


def agreement_ready(case, actor, **values):
    """A pending promise to pay, recorded as a bare row (no follow-up checks): what the move negotiation →
    follow-up requires."""
    from repayment.models import PromiseToPay

    defaults = {
        "amount": Decimal("100.00"),
        "due_date": timezone.localdate() + dt.timedelta(days=7),
        "grace_days": 3,
        "created_by": actor,
    }
    return PromiseToPay.objects.create(case=case, **{**defaults, **values})


def case_walked_to(cast, stage=Stage.NEGOTIATION):
    """A new account's case of team X, assigned to collector A, walked along the workflow to ``stage``."""
    from collections_app.services.cases import case_assign, case_open, case_transition

    case = case_open(account=AccountFactory(branch=cast.branch_a), actor=cast.supervisor_x, team=cast.team_x)
    case = case_assign(case=case, collector=cast.collector_a, actor=cast.supervisor_x)
    for target in (Stage.PREPARATION, Stage.VISIT, Stage.NEGOTIATION):
        if target == Stage.VISIT:
            visit_plan_ready(case, cast.collector_a)
        case_transition(case=case, target=target, actor=cast.collector_a)
        if target == stage:
            break
    return case
