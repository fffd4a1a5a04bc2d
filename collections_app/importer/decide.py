"""What an import does with each row, as pure functions over plain values: no query, no write.

``upsert`` reads what a chunk needs into a ``Snapshot`` (the same queries on every database), calls
``decide_chunk`` and writes the ``Plan`` it returns. The rules:

- branch: the row's code, else the account's current branch; a supervisor only their branches
  (the account's current branch too);
- borrower: an existing one with the same national-ID hash (the newest); else the account's own
  (which gets the ID it lacked); else a new one — rows of one chunk sharing a new ID share it;
  a known borrower takes the name of its last row;
- phones and addresses not yet on file are added, the last new one of a borrower as primary; a
  known address whose position changed is moved;
- accounts: new and changed ones are written, an unchanged one is not; a changed account with an
  open case gets an ``account_updated`` event and, when it became current, the cured-candidate flag;
- counts: created, updated (account or borrower/contacts changed) and unchanged.
"""

from dataclasses import dataclass, field

from collections_app.importer import rows as R
from collections_app.models import Product

# Fields an import compares; a change to any of them updates the account (and is the event's payload).
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
NEW_ACCOUNT_DEFAULTS = {
    "product": Product.PERSONAL_CONSUMER,
    "principal": 0,
    "currency": "CNY",
    "last_payment_date": None,
}
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


@dataclass(eq=False)
class NewBorrower:
    """A borrower the plan creates; the writer sets ``id``."""

    name: str
    national_id: str
    id: int | None = None


@dataclass(eq=False)
class NewContact:
    """A phone (``text`` is the number) or an address (with its position) the plan adds."""

    borrower: object  # a known borrower's id or a NewBorrower
    text: str
    is_primary: bool = False
    lat: object = None
    lng: object = None


@dataclass
class Snapshot:
    """What the database holds for one chunk: ``accounts`` by account number (``ACCOUNT_FIELDS`` plus
    ``id`` and ``has_open_case``), ``borrowers`` by id as (name, national-ID hash), ``by_hash`` the newest
    borrower of each hash, the known borrowers' ``phones`` (sets) and ``addresses`` (text → (id, lat, lng))."""

    branches: dict
    allowed_branch_ids: set | None
    hashes: dict  # national ID -> hash
    accounts: dict = field(default_factory=dict)
    borrowers: dict = field(default_factory=dict)
    by_hash: dict = field(default_factory=dict)
    phones: dict = field(default_factory=dict)
    addresses: dict = field(default_factory=dict)


@dataclass
class AccountDecision:
    account_no: str
    outcome: str
    values: dict  # ACCOUNT_FIELDS; borrower_id may be a NewBorrower until written
    before: dict | None = None
    event_for: int | None = None  # the account id whose open case gets an event
    cured: bool = False

    @property
    def write(self) -> bool:
        return self.outcome == CREATED or self.values != self.before


@dataclass
class Plan:
    errors: list = field(default_factory=list)  # (row number, RowError)
    new_borrowers: list = field(default_factory=list)
    renamed: dict = field(default_factory=dict)  # known borrower id -> name
    attached: dict = field(default_factory=dict)  # known borrower id -> national ID
    phones: list = field(default_factory=list)
    addresses: list = field(default_factory=list)
    moved: dict = field(default_factory=dict)  # address id -> (lat, lng)
    accounts: list = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for decision in self.accounts if decision.outcome == outcome)


def decide_branch(row, current: dict | None, snap: Snapshot):
    """The row's branch id, or the ``RowError`` that refuses the row."""
    if row.branch_code:
        branch_id = snap.branches.get(row.branch_code)
        if branch_id is None:
            return R.RowError("branch_code", row.branch_code, R.UNKNOWN_BRANCH)
    elif current is not None:
        branch_id = current["branch_id"]
    else:
        return R.RowError("branch_code", "", R.BRANCH_REQUIRED)
    allowed = snap.allowed_branch_ids
    if allowed is not None and (branch_id not in allowed or (current and current["branch_id"] not in allowed)):
        return R.RowError("branch_code", row.branch_code, R.BRANCH_NOT_YOURS)
    return branch_id


class BorrowerChoice:
    """Each row's borrower, in row order (a later row sees the borrowers earlier rows chose or created)."""

    def __init__(self, snap: Snapshot, plan: Plan):
        self.snap, self.plan = snap, plan
        self.by_hash = dict(snap.by_hash)
        self.names: dict = {}

    def choose(self, row, current: dict | None):
        digest = self.snap.hashes.get(row.national_id, "")
        if digest in self.by_hash:
            borrower = self.by_hash[digest]
        elif current is not None and not (digest and self.snap.borrowers[current["borrower_id"]][1]):
            borrower = current["borrower_id"]
            if digest:
                self.plan.attached[borrower] = row.national_id
                self.by_hash[digest] = borrower
        else:
            borrower = NewBorrower(name=row.borrower_name, national_id=row.national_id)
            self.plan.new_borrowers.append(borrower)
            if digest:
                self.by_hash[digest] = borrower
        if isinstance(borrower, int):
            self.names[borrower] = row.borrower_name
        return borrower

    def changed(self) -> set:
        """Known borrowers whose name or national ID the plan changes (and no others)."""
        known = self.snap.borrowers
        self.plan.renamed = {pk: name for pk, name in self.names.items() if known[pk][0] != name}
        return set(self.plan.renamed) | set(self.plan.attached)


def decide_contacts(chosen: list, snap: Snapshot, plan: Plan) -> set:
    """New phones and addresses, moved addresses; returns the known borrowers whose contacts changed."""
    phones: dict = {}
    addresses: dict = {}
    moves: dict = {}
    for row, borrower in chosen:
        if row.phone:
            numbers = phones.setdefault(borrower, set(snap.phones.get(borrower, ())))
            if row.phone not in numbers:
                numbers.add(row.phone)
                plan.phones.append(NewContact(borrower, row.phone))
        if row.address:
            known = addresses.setdefault(borrower, dict(snap.addresses.get(borrower, {})))
            address = known.get(row.address)
            if address is None:
                known[row.address] = NewContact(borrower, row.address, lat=row.lat, lng=row.lng)
                plan.addresses.append(known[row.address])
            elif isinstance(address, tuple) and row.lat is not None and row.lng is not None:
                moves[address] = (row.lat, row.lng, borrower)
    plan.moved = {address[0]: (lat, lng) for address, (lat, lng, _b) in moves.items() if address[1:] != (lat, lng)}
    changed = {b for address, (lat, lng, b) in moves.items() if address[1:] != (lat, lng)}
    for contacts in (plan.phones, plan.addresses):
        last = {contact.borrower: contact for contact in contacts}
        for contact in last.values():
            contact.is_primary = True
        changed |= set(last)
    return {b for b in changed if isinstance(b, int)}


def decide_account(row, *, current: dict | None, branch_id: int, borrower, touched: bool) -> AccountDecision:
    """The account's values after the row, and whether it is created, updated or unchanged."""
    base = current or NEW_ACCOUNT_DEFAULTS
    values = {
        "borrower_id": borrower,
        "branch_id": branch_id,
        "product": row.product or base["product"],
        "principal": base["principal"] if row.principal is None else row.principal,
        "outstanding_balance": row.outstanding_balance,
        "overdue_amount": row.overdue_amount,
        "overdue_since": row.overdue_since,
        "last_payment_date": row.last_payment_date or base["last_payment_date"],
        "currency": row.currency or base["currency"],
    }
    if current is None:
        return AccountDecision(row.account_no, CREATED, values)
    before = {f: current[f] for f in ACCOUNT_FIELDS}
    changed = values != before
    decision = AccountDecision(row.account_no, UPDATED if changed or touched else UNCHANGED, values, before)
    if changed and current["has_open_case"]:
        decision.event_for = current["id"]
        decision.cured = before["overdue_amount"] > 0 and values["overdue_amount"] == 0
    return decision


def decide_chunk(rows: list, snap: Snapshot) -> Plan:
    """The whole chunk's plan: refused rows with their errors, then borrowers, contacts and accounts."""
    plan = Plan()
    accepted = []
    for row in rows:
        current = snap.accounts.get(row.account_no)
        branch = decide_branch(row, current, snap)
        if isinstance(branch, R.RowError):
            plan.errors.append((row.row, branch))
        else:
            accepted.append((row, current, branch))
    borrowers = BorrowerChoice(snap, plan)
    chosen = [(row, current, branch, borrowers.choose(row, current)) for row, current, branch in accepted]
    touched = borrowers.changed() | decide_contacts([(c[0], c[3]) for c in chosen], snap, plan)
    for row, current, branch, borrower in chosen:
        plan.accounts.append(
            decide_account(row, current=current, branch_id=branch, borrower=borrower, touched=borrower in touched)
        )
    return plan
