"""Demo data: two branches with a team each, the demo users, and overdue accounts with cases
in every stage, spread over the last six months (``dashboard.demo_history``). Deterministic for a
given seed; re-running creates nothing twice."""

import datetime as dt
import random
import time
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from faker import Faker

from collections_app.aging import local_today
from collections_app.chain import seal_cases
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
from collections_app.services.cases import case_assign, case_open, case_transition
from collections_app.services.screening import accounts_refresh_screening_keys
from dashboard import demo_history
from repayment import demo as demo_repayment
from visits import demo as demo_visits

DEMO_PASSWORD = "doorstep-demo"  # noqa: S105 — documented demo password, refused with DEBUG off
BRANCHES = [
    # code, name, region, centre (lat, lng), team, supervisor, collectors
    (
        "BR01",
        "姑苏支行",
        "苏州",
        (31.2989, 120.5853),
        "姑苏走访一组",
        "supervisor1",
        ("collector1", "collector2", "collector3"),
    ),
    (
        "BR02",
        "滨湖支行",
        "无锡",
        (31.5500, 120.2800),
        "滨湖走访一组",
        "supervisor2",
        ("collector4", "collector5", "collector6"),
    ),
]
# The path each demo case walks from screening: index into this list = how far it got.
STAGE_PATH = [Stage.SCREENING, Stage.PREPARATION, Stage.VISIT, Stage.NEGOTIATION, Stage.FOLLOW_UP, Stage.CLOSED]
# How far each team's next case walks, in turn: every stage once, then more follow-ups and closures, as in a
# portfolio worked for months (most cases opened then are closed by now).
DEPTHS = (0, 1, 2, 3, 4, 5, 5, 4, 5, 5)


class Command(BaseCommand):
    help = "Load deterministic demo data (organisation, users, accounts, cases). Safe to re-run."

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=int, default=120, help="overdue accounts to create (0: users only)")
        parser.add_argument("--seed", type=int, default=2026, help="random seed; the same seed gives the same data")
        parser.add_argument("--force", action="store_true", help="run even with DEBUG off")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when any user exists")

    def handle(self, *args, accounts: int, seed: int, force: bool, if_empty: bool, **options):
        if if_empty and User.objects.exists():
            self.stdout.write("Database already has users; demo data not loaded.")
            return
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates users with a known password; refusing with DEBUG off (use --force).")
        if accounts < 0:
            raise CommandError("--accounts must be 0 or more.")
        rng = random.Random(seed)
        fake = Faker("zh_CN")
        fake.seed_instance(seed)
        started = time.monotonic()
        with transaction.atomic():
            teams = self._organisation()
            created = self._accounts(accounts, rng, fake, teams) if accounts else []
            if created:
                demo_history.snapshot_history(accounts=created, today=local_today())
                demo_history.statement_history(accounts=created, today=local_today())
                # Chained here, in one pass, rather than by each write's own sealing after commit (one
                # transaction per case): the links cover the back-dated moments all the same.
                seal_cases(Case.objects.filter(account_id__in=created).values_list("pk", flat=True))
                accounts_refresh_screening_keys()
        seconds = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(created)} new accounts in {seconds:.1f} s, password '{DEMO_PASSWORD}'."
            )
        )

    def _user(self, username: str, role: str, team: Team | None = None, **extra) -> User:
        user, created = User.objects.get_or_create(username=username, defaults={"role": role, "team": team, **extra})
        if created:
            # One PBKDF2 run for every demo user (a second each): they share the published password anyway.
            if not hasattr(self, "_password"):
                self._password = make_password(DEMO_PASSWORD)
            user.password = self._password
            user.save(update_fields=["password"])
        return user

    def _organisation(self) -> list[Team]:
        self._user("manager", Role.MANAGER, first_name="经理", last_name="王")
        self._user("admin", Role.ADMIN, is_staff=True, is_superuser=True)
        teams = []
        for code, name, region, _centre, team_name, supervisor_name, collectors in BRANCHES:
            branch, _ = Branch.objects.get_or_create(code=code, defaults={"name": name, "region": region})
            supervisor = self._user(supervisor_name, Role.SUPERVISOR, first_name="主管", last_name=region)
            team, _ = Team.objects.get_or_create(branch=branch, name=team_name, defaults={"supervisor": supervisor})
            supervisor.team = team
            supervisor.save(update_fields=["team"])
            for username in collectors:
                self._user(username, Role.COLLECTOR, team, region=region, first_name=f"催收员{username[-1]}")
            teams.append(team)
        return teams

    def _accounts(self, count: int, rng: random.Random, fake: Faker, teams: list[Team]) -> list[int]:
        """Create the missing demo accounts and walk their cases; returns the new accounts' ids."""
        today = local_today()
        created = []
        for i in range(count):
            # Draw every value before the existence check so the stream (and so the data)
            # does not depend on which accounts already exist.
            _code, _n, region, centre, *_ = BRANCHES[i % len(BRANCHES)]
            team = teams[i % len(teams)]
            values = self._draw(rng, fake, today, region, centre)
            case_draw = rng.random()
            account_no = f"DEMO{i + 1:07d}"
            if DelinquentAccount.objects.filter(account_no=account_no).exists():
                continue
            account = self._create_account(account_no, team.branch, values)
            self._walk_case(account, team, case_draw, i)
            created.append(account.pk)
        return created

    def _draw(self, rng, fake, today, region, centre) -> dict:
        principal = Decimal(rng.randrange(20_000, 800_000, 500))
        outstanding = (principal * Decimal(rng.uniform(0.3, 0.95))).quantize(Decimal("0.01"))
        overdue = (outstanding * Decimal(rng.uniform(0.02, 0.4))).quantize(Decimal("0.01"))
        dpd = rng.choice([rng.randint(1, 30), rng.randint(31, 90), rng.randint(91, 400)])
        with_position = rng.random() < 0.85
        return {
            "name": fake.name(),
            "national_id": fake.ssn(),
            "phone": fake.phone_number(),
            "employer": fake.company(),
            "address": f"{region}市{fake.street_address()}",
            "lat": Decimal(str(round(centre[0] + rng.uniform(-0.08, 0.08), 6))) if with_position else None,
            "lng": Decimal(str(round(centre[1] + rng.uniform(-0.08, 0.08), 6))) if with_position else None,
            "product": rng.choice(Product.values),
            "principal": principal,
            "outstanding": outstanding,
            "overdue": overdue,
            "overdue_since": today - dt.timedelta(days=dpd),
            "last_payment": today - dt.timedelta(days=dpd + rng.randint(1, 60)),
        }

    def _create_account(self, account_no, branch, v) -> DelinquentAccount:
        borrower = Borrower(name=v["name"], employer=v["employer"])
        borrower.set_national_id(v["national_id"])
        borrower.save()
        BorrowerPhone.objects.create(borrower=borrower, number=v["phone"], is_primary=True)
        BorrowerAddress.objects.create(
            borrower=borrower, text=v["address"], lat=v["lat"], lng=v["lng"], is_primary=True
        )
        return DelinquentAccount.objects.create(
            account_no=account_no,
            borrower=borrower,
            branch=branch,
            product=v["product"],
            principal=v["principal"],
            outstanding_balance=v["outstanding"],
            overdue_amount=v["overdue"],
            overdue_since=v["overdue_since"],
            last_payment_date=v["last_payment"],
        )

    def _walk_case(self, account: DelinquentAccount, team: Team, draw: float, index: int) -> Case | None:
        """About a third of accounts stay in the screening pool; the rest walk a case forward."""
        if draw < 0.33:
            return None
        supervisor = team.supervisor
        case = case_open(account=account, actor=supervisor, team=team)
        # Per team, cases cycle through the stages and spread over its collectors, so every
        # collector has cases in several stages ("my cases" is worth looking at for each).
        per_team = index // len(BRANCHES)
        depth = DEPTHS[per_team % len(DEPTHS)]
        if depth == 0:
            return case
        collectors = list(team.members.filter(role=Role.COLLECTOR).order_by("username"))
        collector = collectors[(per_team + per_team // len(STAGE_PATH)) % len(collectors)]
        case_assign(case=case, collector=collector, actor=supervisor)
        # Its own stream, from values drawn before the existence check, so the shared stream
        # (and every later account) does not depend on which accounts already existed.
        rng = random.Random(f"{index}:{draw!r}")
        repayment_rng = random.Random(f"repayment:{index}:{draw!r}")
        for target in STAGE_PATH[1 : depth + 1]:
            if not case.is_open:  # a demo payment on the walk cured it
                break
            if target == Stage.VISIT:  # the move to visit needs a ready plan, as for a collector
                demo_visits.prepare(case=case, collector=collector, rng=rng, complete=True)
            if target == Stage.FOLLOW_UP:  # follow-up needs an agreement: a promise or an active plan
                demo_repayment.agree(case=case, collector=collector, rng=repayment_rng)
                continue
            reason = "cured" if target == Stage.CLOSED else ""
            case_transition(case=case, target=target, actor=collector, close_reason=reason)
        if depth == 1:
            demo_visits.prepare(case=case, collector=collector, rng=rng, complete=rng.random() < 0.4)
        demo_visits.enrich(case=case, collector=collector, rng=rng)
        demo_repayment.enrich(case=case, collector=collector, rng=repayment_rng)
        history_rng = random.Random(f"history:{index}:{draw!r}")
        demo_history.backdate_case(case=case, rng=history_rng, now=timezone.now())
        return case
