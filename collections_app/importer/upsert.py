"""One chunk of validated rows: read what the database holds for them, decide (``decide``), write.

The reads and the decisions are the same on every database; only the final bulk write differs
(``bulk``: ``COPY`` on PostgreSQL, ``bulk_create`` elsewhere). A chunk costs a constant number of
queries whatever its size, and an unchanged row writes nothing.
"""

import dataclasses

from django.db import transaction
from django.utils import timezone

from collections_app import pii, priority
from collections_app.aging import local_today
from collections_app.importer import bulk, decide
from collections_app.models import (
    Borrower,
    BorrowerAddress,
    BorrowerPhone,
    Branch,
    Case,
    CaseEvent,
    DelinquentAccount,
)
from collections_app.services.audit import audit_changes

UPSERT_FIELDS = [f.removesuffix("_id") for f in decide.ACCOUNT_FIELDS]


@dataclasses.dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0


@dataclasses.dataclass
class ImportContext:
    job_id: int
    actor: object  # None: the command (system), which may import any branch
    create_branches: bool
    report: object
    branches: dict  # code -> id
    allowed_branch_ids: set | None  # None: any branch
    counts: Counts = dataclasses.field(default_factory=Counts)

    def fail(self, row: int, errors: list) -> None:
        for error in errors:
            self.report.add(row, error.column, error.value, error.reason)
        self.counts.failed += 1


def _ensure_branches(ctx: ImportContext, rows: list) -> None:
    missing = {r.branch_code for r in rows if r.branch_code and r.branch_code not in ctx.branches}
    if not missing or not ctx.create_branches:
        return
    Branch.objects.bulk_create([Branch(code=code, name=code) for code in sorted(missing)], ignore_conflicts=True)
    ctx.branches.update(Branch.objects.filter(code__in=missing).values_list("code", "id"))


def read_snapshot(ctx: ImportContext, rows: list) -> decide.Snapshot:
    """What the database holds for the chunk's accounts, national IDs and their borrowers."""
    snap = decide.Snapshot(
        branches=ctx.branches,
        allowed_branch_ids=ctx.allowed_branch_ids,
        hashes={r.national_id: pii.lookup_hash(r.national_id) for r in rows if r.national_id},
    )
    accounts = DelinquentAccount.objects.filter(account_no__in=[r.account_no for r in rows])
    snap.accounts = {
        a["account_no"]: a for a in accounts.values("id", "account_no", "has_open_case", *decide.ACCOUNT_FIELDS)
    }
    by_hash = Borrower.objects.filter(national_id_hash__in=set(snap.hashes.values())).order_by("-id")
    for digest, pk in by_hash.values_list("national_id_hash", "id"):
        snap.by_hash.setdefault(digest, pk)
    known = {a["borrower_id"] for a in snap.accounts.values()} | set(snap.by_hash.values())
    if not known:
        return snap
    snap.borrowers = {
        pk: (name, digest)
        for pk, name, digest in Borrower.objects.filter(pk__in=known).values_list("id", "name", "national_id_hash")
    }
    for borrower_id, number in BorrowerPhone.objects.filter(borrower_id__in=known).values_list("borrower_id", "number"):
        snap.phones.setdefault(borrower_id, set()).add(number)
    addresses = BorrowerAddress.objects.filter(borrower_id__in=known).order_by("id")
    for pk, borrower_id, text, lat, lng in addresses.values_list("id", "borrower_id", "text", "lat", "lng"):
        snap.addresses.setdefault(borrower_id, {}).setdefault(text, (pk, lat, lng))
    return snap


def upsert_chunk(ctx: ImportContext, rows: list, *, actor_id: int | None) -> None:
    """Decide and write one chunk in one transaction; refused rows go to the report."""
    _ensure_branches(ctx, rows)
    snap = read_snapshot(ctx, rows)
    plan = decide.decide_chunk(rows, snap)
    for number, error in plan.errors:
        ctx.fail(number, [error])
    with transaction.atomic():
        write_plan(plan, job_id=ctx.job_id, actor_id=actor_id)
    ctx.counts.created += plan.count(decide.CREATED)
    ctx.counts.updated += plan.count(decide.UPDATED)
    ctx.counts.unchanged += plan.count(decide.UNCHANGED)


def _id(borrower) -> int:
    return borrower if isinstance(borrower, int) else borrower.id


def write_plan(plan: decide.Plan, *, job_id: int, actor_id: int | None) -> None:
    _write_borrowers(plan)
    for model, column, contacts in (
        (BorrowerPhone, "number", plan.phones),
        (BorrowerAddress, "text", plan.addresses),
    ):
        demoted = {c.borrower for c in contacts if isinstance(c.borrower, int)}
        model.objects.filter(borrower_id__in=demoted, is_primary=True).update(is_primary=False)
        rows = [{"borrower_id": _id(c.borrower), column: c.text, "is_primary": c.is_primary} for c in contacts]
        if model is BorrowerAddress:
            rows = [{**row, "lat": c.lat, "lng": c.lng} for row, c in zip(rows, contacts, strict=True)]
        bulk.insert(model, rows)
    moved = [BorrowerAddress(pk=pk, lat=lat, lng=lng) for pk, (lat, lng) in plan.moved.items()]
    BorrowerAddress.objects.bulk_update(moved, ["lat", "lng"], batch_size=1000)
    written = [d for d in plan.accounts if d.write]
    for decision in written:
        decision.values["borrower_id"] = _id(decision.values["borrower_id"])
    bulk.upsert(
        DelinquentAccount,
        [{"account_no": d.account_no, **d.values} for d in written],
        unique="account_no",
        update=UPSERT_FIELDS,
        # A new account's screening key in the same statement where the database can (else the job's
        # screening refresh sets it); a changed account's key is left to that refresh.
        computed={"screening_key": priority.screening_key_expression(today=local_today())},
    )
    _case_events(job_id, actor_id, [d for d in written if d.event_for is not None])


def _write_borrowers(plan: decide.Plan) -> None:
    rows = [
        {"name": b.name, "national_id_encrypted": "", "national_id_hash": "", "national_id_last4": ""}
        for b in plan.new_borrowers
    ]
    for row, borrower in zip(rows, plan.new_borrowers, strict=True):
        if borrower.national_id:
            identified = Borrower()
            identified.set_national_id(borrower.national_id)
            row["national_id_encrypted"] = identified.national_id_encrypted
            row["national_id_hash"] = identified.national_id_hash
            row["national_id_last4"] = identified.national_id_last4
    for borrower, pk in zip(plan.new_borrowers, bulk.insert(Borrower, rows), strict=True):
        borrower.id = pk
    changed = list(Borrower.objects.filter(pk__in=set(plan.renamed) | set(plan.attached)).only("id", "name"))
    now = timezone.now()
    for borrower in changed:
        borrower.updated_at = now
        borrower.name = plan.renamed.get(borrower.pk, borrower.name)
        if borrower.pk in plan.attached:
            borrower.set_national_id(plan.attached[borrower.pk])
    Borrower.objects.bulk_update(
        changed,
        ["name", "national_id_encrypted", "national_id_hash", "national_id_last4", "updated_at"],
        batch_size=1000,
    )


def _case_events(job_id: int, actor_id: int | None, decisions: list) -> None:
    if not decisions:
        return
    open_cases = dict(
        Case.objects.open().filter(account_id__in=[d.event_for for d in decisions]).values_list("account_id", "id")
    )
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                case_id=open_cases[d.event_for],
                actor_id=actor_id,
                kind=CaseEvent.Kind.ACCOUNT_UPDATED,
                payload={"import_job": job_id, "changes": audit_changes(d.before, d.values)},
            )
            for d in decisions
            if d.event_for in open_cases
        ],
        batch_size=2000,
    )
    cured = [d.event_for for d in decisions if d.cured]
    if cured:
        Case.objects.open().filter(account_id__in=cured).update(cured_candidate=True)
