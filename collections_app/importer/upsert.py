"""Bulk upsert of one chunk of validated rows, in a constant number of queries per chunk.

Incoming values are compared with the current ones first, so an unchanged row writes nothing;
changed accounts are written with one ``INSERT … ON CONFLICT (account_no) DO UPDATE``.
"""

import dataclasses
from collections import defaultdict

from django.db import transaction

from collections_app import pii
from collections_app.importer import pg
from collections_app.importer import rows as R
from collections_app.models import (
    Borrower,
    BorrowerAddress,
    BorrowerPhone,
    Branch,
    Case,
    CaseEvent,
    DelinquentAccount,
    Product,
)
from collections_app.services.audit import audit_changes

ACCOUNT_FIELDS = (
    "borrower_id",
    "branch_id",
    "product",
    "principal",
    "outstanding_balance",
    "overdue_amount",
    "overdue_since",
    "last_payment_date",
    "currency",
)
UPSERT_FIELDS = [f.removesuffix("_id") for f in ACCOUNT_FIELDS] + ["updated_at"]
NEW_ACCOUNT_DEFAULTS = {
    "product": Product.PERSONAL_CONSUMER,
    "principal": 0,
    "currency": "CNY",
    "last_payment_date": None,
}


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


def _branch_for(ctx: ImportContext, row, current: dict | None) -> int | None:
    """The row's branch id, or None after reporting why the row cannot be imported."""
    if row.branch_code:
        branch_id = ctx.branches.get(row.branch_code)
        if branch_id is None:
            ctx.fail(row.row, [R.RowError("branch_code", row.branch_code, R.UNKNOWN_BRANCH)])
            return None
    elif current is not None:
        branch_id = current["branch_id"]
    else:
        ctx.fail(row.row, [R.RowError("branch_code", "", R.BRANCH_REQUIRED)])
        return None
    allowed = ctx.allowed_branch_ids
    if allowed is not None and (branch_id not in allowed or (current and current["branch_id"] not in allowed)):
        ctx.fail(row.row, [R.RowError("branch_code", row.branch_code, R.BRANCH_NOT_YOURS)])
        return None
    return branch_id


class _Borrowers:
    """Decides each row's borrower: by national-ID hash when given, else the account's own."""

    def __init__(self, rows: list, current: dict):
        self.hashes = {r.account_no: pii.lookup_hash(r.national_id) for r in rows if r.national_id}
        self.by_hash: dict = {}
        for digest, pk in (
            Borrower.objects.filter(national_id_hash__in=set(self.hashes.values()))
            .order_by("-id")
            .values_list("national_id_hash", "id")
        ):
            self.by_hash[digest] = pk
        self.current = current
        self.new: list[Borrower] = []
        self.changed: dict[int, dict] = {}

    def resolve(self, row) -> object:
        """A borrower id, or a new unsaved ``Borrower`` (shared by rows with the same national ID)."""
        digest = self.hashes.get(row.account_no, "")
        account = self.current.get(row.account_no)
        if digest and digest in self.by_hash:
            borrower = self.by_hash[digest]
        elif account is not None and (not digest or not account["borrower__national_id_hash"]):
            borrower = account["borrower_id"]
            if digest:  # the account's borrower gets the ID it lacked
                self.changed.setdefault(borrower, {})["national_id"] = row.national_id
                self.by_hash[digest] = borrower
        else:
            borrower = Borrower(name=row.borrower_name)
            if digest:
                borrower.set_national_id(row.national_id)
                self.by_hash[digest] = borrower
            self.new.append(borrower)
            return borrower
        if isinstance(borrower, int):
            current_name = account["borrower__name"] if account and account["borrower_id"] == borrower else None
            if current_name is None or current_name != row.borrower_name:
                self.changed.setdefault(borrower, {})["name"] = row.borrower_name
        return borrower

    def write(self) -> None:
        Borrower.objects.bulk_create(self.new, batch_size=2000)
        if not self.changed:
            return
        objs = list(Borrower.objects.filter(pk__in=self.changed).only("id", "name", "national_id_hash"))
        dirty = []
        for borrower in objs:
            change = self.changed[borrower.pk]
            before = (borrower.name, borrower.national_id_hash)
            if "name" in change:
                borrower.name = change["name"]
            if "national_id" in change:
                borrower.set_national_id(change["national_id"])
            if (borrower.name, borrower.national_id_hash) != before:
                dirty.append(borrower)
        Borrower.objects.bulk_update(
            dirty, ["name", "national_id_encrypted", "national_id_hash", "updated_at"], batch_size=1000
        )
        self.changed = {b.pk: True for b in dirty}


def _contacts(plan: list, borrower_ids: set) -> set:
    """Add new phones and addresses as primary; returns the borrower ids whose contacts changed."""
    phones, addresses = defaultdict(set), defaultdict(dict)
    for bid, number in BorrowerPhone.objects.filter(borrower_id__in=borrower_ids).values_list("borrower_id", "number"):
        phones[bid].add(number)
    for address in BorrowerAddress.objects.filter(borrower_id__in=borrower_ids).only("id", "borrower_id", "text"):
        addresses[address.borrower_id][address.text] = address
    new_phones, new_addresses, moved, changed = [], [], [], set()
    for row, bid in plan:
        if row.phone and row.phone not in phones[bid]:
            phones[bid].add(row.phone)
            new_phones.append(BorrowerPhone(borrower_id=bid, number=row.phone, is_primary=True))
            changed.add(bid)
        if not row.address:
            continue
        known = addresses[bid].get(row.address)
        if known is None:
            address = BorrowerAddress(borrower_id=bid, text=row.address, lat=row.lat, lng=row.lng, is_primary=True)
            addresses[bid][row.address] = address
            new_addresses.append(address)
            changed.add(bid)
        elif row.lat is not None and row.lng is not None and known.pk:
            moved.append((known.pk, row.lat, row.lng))
    demote = {p.borrower_id for p in new_phones}
    BorrowerPhone.objects.filter(borrower_id__in=demote, is_primary=True).update(is_primary=False)
    BorrowerPhone.objects.bulk_create(new_phones, batch_size=2000)
    demote = {a.borrower_id for a in new_addresses}
    BorrowerAddress.objects.filter(borrower_id__in=demote, is_primary=True).update(is_primary=False)
    BorrowerAddress.objects.bulk_create(new_addresses, batch_size=2000)
    if moved:
        current = BorrowerAddress.objects.in_bulk([pk for pk, _lat, _lng in moved])
        dirty = []
        for pk, lat, lng in moved:
            address = current[pk]
            if (address.lat, address.lng) != (lat, lng):
                address.lat, address.lng = lat, lng
                dirty.append(address)
                changed.add(address.borrower_id)
        BorrowerAddress.objects.bulk_update(dirty, ["lat", "lng"], batch_size=1000)
    return changed


def _incoming(row, branch_id: int, borrower_id: int, current: dict | None) -> dict:
    base = current or NEW_ACCOUNT_DEFAULTS
    return {
        "borrower_id": borrower_id,
        "branch_id": branch_id,
        "product": row.product or base["product"],
        "principal": row.principal if row.principal is not None else base["principal"],
        "outstanding_balance": row.outstanding_balance,
        "overdue_amount": row.overdue_amount,
        "overdue_since": row.overdue_since,
        "last_payment_date": row.last_payment_date or base["last_payment_date"],
        "currency": row.currency or base["currency"],
    }


def upsert_chunk(ctx: ImportContext, rows: list, *, actor_id: int | None) -> None:
    """Write one chunk in one transaction: set-based through a COPY-loaded staging table on
    PostgreSQL (``importer.pg``), row by row in bulk statements elsewhere (SQLite)."""
    _ensure_branches(ctx, rows)
    if pg.is_postgresql():
        with transaction.atomic():
            pg.stage_chunk(ctx, rows)
            pg.upsert_staged(ctx, actor_id=actor_id)
        return
    current = {
        a["account_no"]: a
        for a in DelinquentAccount.objects.filter(account_no__in=[r.account_no for r in rows]).values(
            "id", "account_no", "has_open_case", "borrower__name", "borrower__national_id_hash", *ACCOUNT_FIELDS
        )
    }
    accepted = []
    for row in rows:
        branch_id = _branch_for(ctx, row, current.get(row.account_no))
        if branch_id is not None:
            accepted.append((row, branch_id))
    with transaction.atomic():
        borrowers = _Borrowers([r for r, _b in accepted], current)
        resolved = [(row, branch_id, borrowers.resolve(row)) for row, branch_id in accepted]
        borrowers.write()
        plan = [(row, b if isinstance(b, int) else b.pk) for row, _branch, b in resolved]
        contact_changed = _contacts(plan, {bid for _row, bid in plan}) | set(borrowers.changed)
        to_write, events, cured = [], [], []
        for (row, branch_id, _b), (_row, borrower_id) in zip(resolved, plan, strict=True):
            before = current.get(row.account_no)
            after = _incoming(row, branch_id, borrower_id, before)
            if before is None:
                ctx.counts.created += 1
                to_write.append(DelinquentAccount(account_no=row.account_no, **after))
                continue
            changes = audit_changes({f: before[f] for f in ACCOUNT_FIELDS}, after)
            if changes:
                to_write.append(DelinquentAccount(account_no=row.account_no, **after))
                if before["has_open_case"]:
                    events.append((before["id"], changes))
                    if before["overdue_amount"] > 0 and after["overdue_amount"] == 0:
                        cured.append(before["id"])
            if changes or borrower_id in contact_changed:
                ctx.counts.updated += 1
            else:
                ctx.counts.unchanged += 1
        DelinquentAccount.objects.bulk_create(
            to_write, update_conflicts=True, unique_fields=["account_no"], update_fields=UPSERT_FIELDS, batch_size=2000
        )
        _case_events(ctx.job_id, actor_id, events, cured)


def _case_events(job_id: int, actor_id: int | None, events: list, cured: list) -> None:
    if not events:
        return
    open_cases = dict(
        Case.objects.open()
        .filter(account_id__in=[account_id for account_id, _c in events])
        .values_list("account_id", "id")
    )
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                case_id=open_cases[account_id],
                actor_id=actor_id,
                kind=CaseEvent.Kind.ACCOUNT_UPDATED,
                payload={"import_job": job_id, "changes": changes},
            )
            for account_id, changes in events
            if account_id in open_cases
        ],
        batch_size=2000,
    )
    if cured:
        Case.objects.open().filter(account_id__in=cured).update(cured_candidate=True)
