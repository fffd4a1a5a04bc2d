"""The failover test's data, made and counted inside the topology's own environment (its database, through
the services): ``python -m tests.topology.data setup|report``, printing JSON. Run by test_failover.py."""

import datetime as dt
import json
import os
import sys
import uuid
from decimal import Decimal

SWEEP_PROMISES = 8
COLLECTORS = 6
CASES_PER_COLLECTOR = 2
PASSWORD = "topology-pass-2026"


def setup(spread_seconds: float) -> dict:
    import time_machine
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from collections_app.models import Role, Stage, User
    from collections_app.services.cases import case_assign, case_open, case_transition
    from credentials.services import token_pair_obtain
    from repayment.models import FollowUpCheck
    from repayment.services import promise_create
    from tests.factories import AccountFactory, BranchFactory, TeamFactory, visit_plan_ready

    run = uuid.uuid4().hex[:6]
    # One slow hash for every user of the run (the app servers check it at login).
    hashed = make_password(PASSWORD)

    def user(username, role, team=None):
        return User.objects.create(username=username, role=role, team=team, password=hashed)

    branch = BranchFactory(code=f"T{run}", name="Topology")
    supervisor = user(f"topo_supervisor_{run}", Role.SUPERVISOR)
    team = TeamFactory(branch=branch, name="Topology", supervisor=supervisor)
    supervisor.team = team
    supervisor.save(update_fields=["team"])

    numbers = iter(range(1000))

    def walk(collector, stage):
        account = AccountFactory(branch=branch, account_no=f"T{run}{next(numbers):03d}")
        case = case_open(account=account, actor=supervisor, team=team)
        case = case_assign(case=case, collector=collector, actor=supervisor)
        for target in (Stage.PREPARATION, Stage.VISIT, Stage.NEGOTIATION):
            if target == Stage.VISIT:
                # Consent to visits outside quiet hours, so the test runs at any time of day.
                visit_plan_ready(case, collector, consent_outside_hours=True)
            case = case_transition(case=case, target=target, actor=collector)
            if case.stage == stage:
                return case
        return case

    clients = []
    for n in range(COLLECTORS):
        collector = user(f"topo_collector{n}_{run}", Role.COLLECTOR, team)
        cases = [walk(collector, Stage.VISIT).pk for _ in range(CASES_PER_COLLECTOR)]
        token = token_pair_obtain(user=collector).access  # 15 minutes: longer than the test
        clients.append({"username": collector.username, "token": token, "cases": cases})

    # Promises due yesterday whose checks fall due one after another during the load, so the sweep (every
    # couple of seconds, on whichever worker) runs through the kills.
    collector = user(f"topo_sweeper_{run}", Role.COLLECTOR, team)
    now = timezone.now()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    promises = []
    for n in range(SWEEP_PROMISES):
        case = walk(collector, Stage.NEGOTIATION)
        with time_machine.travel(now - dt.timedelta(days=2)):
            promise = promise_create(
                case=case,
                actor=collector,
                amount=Decimal("100.00"),
                due_date=yesterday,
                grace_days=0,
            )
        due = now + dt.timedelta(seconds=spread_seconds * (n + 1) / SWEEP_PROMISES)
        FollowUpCheck.objects.filter(promise=promise).update(due_at=due)
        promises.append(promise.pk)
    # An overdue account with no case yet, on the screening list until the test opens its case.
    from collections_app.services.screening import account_refresh_screening_key

    unscreened = account_refresh_screening_key(account=AccountFactory(branch=branch, account_no=f"T{run}SCREEN"))
    return {
        "clients": clients,
        "promises": promises,
        "password": PASSWORD,
        "supervisor": supervisor.username,
        "supervisor_token": token_pair_obtain(user=supervisor).access,
        "screening_account": {"id": unscreened.pk, "account_no": unscreened.account_no},
    }


def report(tag: str, promises: list[int]) -> dict:
    from django.db.models import Count

    from collections_app.models import CaseEvent, DelinquentAccount, Notification
    from repayment.models import FollowUpCheck, Payment, PromiseToPay
    from visits.models import ContactAttempt, Visit

    def counts(queryset, field):
        return {str(row[field]): row["n"] for row in queryset.values(field).annotate(n=Count("id"))}

    checks = FollowUpCheck.objects.filter(promise_id__in=promises, kind=FollowUpCheck.Kind.PROMISE_DUE)
    sweep = []
    for check in checks.select_related("promise", "case"):
        case = check.case
        sweep.append(
            {
                "promise": check.promise_id,
                "check_status": check.status,
                "check_result": check.result,
                "promise_status": check.promise.status,
                "broken_promises": DelinquentAccount.objects.get(pk=case.account_id).broken_promises,
                "follow_up_events": case.events.filter(kind=CaseEvent.Kind.FOLLOW_UP, payload__check=check.pk).count(),
                "revisit_notifications": Notification.objects.filter(kind="revisit", case=case).count(),
            }
        )
    return {
        "visits": counts(Visit.objects.filter(notes__startswith=tag), "idempotency_key"),
        "payments": counts(Payment.objects.filter(reference__startswith=tag), "idempotency_key"),
        "contacts": counts(ContactAttempt.objects.filter(note__startswith=tag), "note"),
        "sweep": sweep,
        "pending_due_checks": PromiseToPay.objects.filter(pk__in=promises, status=PromiseToPay.Status.PENDING).count(),
    }


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    if argv[0] == "setup":
        result = setup(spread_seconds=float(argv[1]))
    else:
        result = report(argv[1], [int(p) for p in argv[2].split(",")])
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
