"""Screening: the stored priority key, opening cases from screening, assignment and auto-assign."""

from dataclasses import dataclass, field

from django.db import connections, router, transaction
from django.db.models import Count, Prefetch, Q
from django.db.models.sql import UpdateQuery
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_app import priority
from collections_app.aging import local_today
from collections_app.exceptions import DoorstepError, NotPermitted
from collections_app.models import BorrowerAddress, Case, DelinquentAccount, Role, Stage, Team, User
from collections_app.services.audit import audit_log
from collections_app.services.cases import case_assign, case_open

# At most this many accounts are opened (or cases auto-assigned) per click, so one request stays
# short and one transaction small; the page says when more remain.
OPEN_BATCH_LIMIT = 500
AUTO_ASSIGN_LIMIT = 500
# Auto-assign: a collector outside the case's region counts as carrying this many extra cases.
REGION_SLACK = 3


@dataclass
class BatchResult:
    """What a batch did, for the message the user reads."""

    done: list = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (label, why)
    more: bool = False


# --- the stored priority key -------------------------------------------------------------


def account_refresh_screening_key(*, account: DelinquentAccount) -> DelinquentAccount:
    """Recompute one account's key; call after changing its overdue amount or date, broken
    promises or last contact. The same SQL expression as the bulk refresh, so both agree."""
    alias = router.db_for_write(DelinquentAccount)
    connection = connections[alias]
    sql, params = _refresh_key_sql(alias, local_today())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"{sql} RETURNING screening_key", [*params, account.pk])
            account.screening_key = cursor.fetchone()[0]
            return account
        cursor.execute(sql, [*params, account.pk])
    account.screening_key = DelinquentAccount.objects.values_list("screening_key", flat=True).get(pk=account.pk)
    return account


# The key's UPDATE compiled once per database, day, time zone (the last-contact date is taken in it) and
# weights: building and compiling its expression cost each visit, contact or payment POST about 3.5 ms of CPU.
_REFRESH_KEY_SQL: dict[tuple, tuple[str, tuple]] = {}


def _refresh_key_sql(alias: str, today) -> tuple[str, tuple]:
    key = (alias, today, timezone.get_current_timezone_name(), tuple(priority.weights().items()))
    compiled = _REFRESH_KEY_SQL.get(key)
    if compiled is None:
        query = DelinquentAccount.objects.filter(pk=0).query.chain(UpdateQuery)
        query.add_update_values({"screening_key": priority.screening_key_expression(today=today)})
        sql, params = query.get_compiler(alias).as_sql()
        # "UPDATE … SET … WHERE id = %s": the id is the last parameter, given per call.
        if params[-1] != 0 or not sql.endswith("%s"):
            raise RuntimeError(f"unexpected UPDATE for the screening key: {sql}")
        if len(_REFRESH_KEY_SQL) > 64:
            _REFRESH_KEY_SQL.clear()
        compiled = _REFRESH_KEY_SQL[key] = (sql, tuple(params[:-1]))
    return compiled


def accounts_refresh_screening_keys(queryset=None) -> int:
    """One set-based UPDATE of every (or the given) account's key; after imports and weight changes.

    Rows whose key is already right are not rewritten (no dead tuples, no index churn on a
    re-run). Returns how many keys changed.
    """
    expression = priority.screening_key_expression(today=local_today())
    accounts = DelinquentAccount.objects.all()
    if queryset is not None:
        accounts = accounts.filter(pk__in=queryset.values("pk"))
    return accounts.exclude(screening_key=expression).update(screening_key=expression)


# --- opening cases -----------------------------------------------------------------------


def _may_supervise(actor: User) -> bool:
    return actor.is_active and (actor.is_supervisor or actor.role == Role.ADMIN or actor.is_superuser)


def _team_for(account: DelinquentAccount, actor: User, teams: dict) -> Team | None:
    """The actor's team in the account's branch (an administrator: the branch's first team)."""
    if account.branch_id not in teams:
        candidates = Team.objects.filter(branch_id=account.branch_id).order_by("id")
        if actor.is_supervisor:
            candidates = candidates.filter(supervisor=actor)
        teams[account.branch_id] = candidates.first()
    return teams[account.branch_id]


@transaction.atomic
def screening_open_cases(*, accounts, actor: User) -> BatchResult:
    """Open a case on each account (a queryset, best first), at most ``OPEN_BATCH_LIMIT``.

    Accounts that got an open case meanwhile (another click, another supervisor) are skipped
    and reported; the one-open-case index decides races.
    """
    if not _may_supervise(actor):
        raise NotPermitted(_("Only a supervisor can open cases."))
    result = BatchResult()
    batch = list(accounts.select_related("branch")[: OPEN_BATCH_LIMIT + 1])
    result.more = len(batch) > OPEN_BATCH_LIMIT
    teams: dict = {}
    for account in batch[:OPEN_BATCH_LIMIT]:
        if account.has_open_case:
            result.skipped.append((account.account_no, _("already has an open case")))
            continue
        try:
            result.done.append(case_open(account=account, actor=actor, team=_team_for(account, actor, teams)))
        except DoorstepError as exc:
            result.skipped.append((account.account_no, str(exc.message)))
    audit_log(
        actor=actor,
        action="screening.open_cases",
        object_type="collections_app.case",
        changes={"opened": len(result.done), "skipped": len(result.skipped), "more": result.more},
    )
    return result


# --- assignment --------------------------------------------------------------------------


@transaction.atomic
def cases_assign_bulk(*, cases, collector: User, actor: User, reason: str = "") -> BatchResult:
    """Assign or reassign each case (``case_assign`` rules: same team, reason to reassign)."""
    result = BatchResult()
    for case in cases.select_related("team", "account"):
        if case.assigned_collector_id == collector.pk:
            result.skipped.append((str(case), _("already assigned to %(user)s") % {"user": collector.get_username()}))
            continue
        try:
            # A savepoint per case: a refusal must not undo the cases assigned before it.
            with transaction.atomic():
                result.done.append(case_assign(case=case, collector=collector, actor=actor, reason=reason))
        except DoorstepError as exc:
            result.skipped.append((str(case), str(exc.message)))
    return result


def team_collectors_with_load(teams) -> list[User]:
    """Active collectors of the teams, each annotated with ``open_cases`` (their current load)."""
    return list(
        User.objects.filter(team__in=teams, role=Role.COLLECTOR, is_active=True)
        .annotate(open_cases=Count("assigned_cases", filter=~Q(assigned_cases__stage=Stage.CLOSED)))
        .order_by("username", "id")
    )


def regional_collectors(case: Case, collectors: list[User]) -> set[int]:
    """Collectors in the case's region: those whose region appears in the borrower's primary
    address (where the visit happens); if the address names none, those of the branch's region."""
    borrower = case.account.borrower
    primary = getattr(borrower, "primary_addresses", None)  # prefetched by cases_auto_assign
    if primary is None:
        primary = borrower.addresses.filter(is_primary=True)
    addresses = [address.text for address in primary]
    regions = {c.pk: c.region.strip() for c in collectors if c.region.strip()}
    by_address = {pk for pk, region in regions.items() if any(region in text for text in addresses)}
    if by_address:
        return by_address
    branch_region = case.account.branch.region.strip()
    return {pk for pk, region in regions.items() if region == branch_region}


def pick_collector(case: Case, collectors: list[User], load: dict[int, int]) -> User | None:
    """README "Auto-assign": the lowest load, counting ``REGION_SLACK`` extra cases against a
    collector outside the case's region; ties: lower real load, region match, username, id."""
    regional = regional_collectors(case, collectors)

    def rank(collector: User) -> tuple:
        outside = 0 if collector.pk in regional else 1
        current = load[collector.pk]
        return (current + outside * REGION_SLACK, current, outside, collector.username, collector.pk)

    return min(collectors, key=rank, default=None)


@transaction.atomic
def cases_auto_assign(*, actor: User, teams=None) -> BatchResult:
    """Spread the teams' unassigned open cases, most urgent first, over their active collectors."""
    if not _may_supervise(actor):
        raise NotPermitted(_("Only a supervisor can assign cases."))
    if teams is None:
        teams = Team.objects.filter(supervisor=actor)
    teams = list(teams)
    result = BatchResult()
    collectors = team_collectors_with_load(teams)
    by_team: dict[int, list[User]] = {}
    for collector in collectors:
        by_team.setdefault(collector.team_id, []).append(collector)
    load = {collector.pk: collector.open_cases for collector in collectors}
    addresses = Prefetch(
        "account__borrower__addresses",
        queryset=BorrowerAddress.objects.filter(is_primary=True),
        to_attr="primary_addresses",
    )
    unassigned = (
        Case.objects.open()
        .filter(team__in=teams, assigned_collector__isnull=True)
        .select_related("team", "account__branch", "account__borrower")
        .prefetch_related(addresses)
        .order_by("-priority_score", "opened_at", "id")
    )
    batch = list(unassigned[: AUTO_ASSIGN_LIMIT + 1])
    result.more = len(batch) > AUTO_ASSIGN_LIMIT
    for case in batch[:AUTO_ASSIGN_LIMIT]:
        collector = pick_collector(case, by_team.get(case.team_id, []), load)
        if collector is None:
            result.skipped.append((str(case), _("the team has no active collector")))
            continue
        try:
            with transaction.atomic():
                result.done.append(case_assign(case=case, collector=collector, actor=actor))
        except DoorstepError as exc:
            result.skipped.append((str(case), str(exc.message)))
            continue
        load[collector.pk] += 1
    audit_log(
        actor=actor,
        action="case.auto_assign",
        object_type="collections_app.case",
        changes={"assigned": len(result.done), "skipped": len(result.skipped), "teams": [t.pk for t in teams]},
    )
    return result
