"""Tamper-evident records: case events and audit rows chained by SHA-256.

Every case has its own chain (``case:<id>``) of its events; the audit trail is one chain (``audit``). A link's
hash is SHA-256 over a canonical JSON of ``{"prev": previous hash, "seq": position, "row": the row's content}``,
so changing a row breaks its own hash, removing one leaves a gap in the positions, and removing the newest
rows leaves the chain short of its head (``ChainHead``).

Rows are written unsealed (every writer, bulk inserts included, stays as it is). A case event a user's
write adds is sealed just after the writing transaction commits (``seal_case_on_commit``). The rest are
sealed by the minute beat task (``seal_pending``): audit rows, written by nearly every request, and what bulk
writes leave — the follow-up sweep's events and moves (``cases_transition_bulk``), which would otherwise
spend most of the sweep's time sealing. A case is also sealed before its evidence pack is built (under the
case's lock) and when ``verify_evidence --seal`` runs. Until then a verification counts its unsealed events
as not yet sealed, never as tampering.

Sealing locks the chain's head row, so two workers sealing the same chain (the beat task and a user's commit
hook) append one after the other; under READ COMMITTED the rows read after the lock include everything the
previous holder sealed. A verification reads the head first and walks the links up to it, so links sealed
while it reads are pending to it, not a chain running past its head.
"""

import datetime as dt
import hashlib
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_app.models import AuditLog, CaseEvent, ChainHead

GENESIS = "0" * 64
AUDIT = "audit"
SWEEP_CASES = 500
SEAL_BATCH = 5000
# The beat task stops starting batches after this long (under its period), so runs hand over instead of piling up.
SEAL_MAX_SECONDS = 50
_CHAIN_FIELDS = ["chain_seq", "prev_hash", "chain_hash"]


def case_key(case_id: int) -> str:
    return f"case:{case_id}"


def canonical_json(value) -> bytes:
    """One byte string per value: sorted keys, no spaces, UTF-8 (a Chinese name hashes as itself)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _stamp(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds") if value else None


def event_content(event: CaseEvent) -> dict:
    """What a case event's hash covers: everything it says (``stage_seconds`` is a derived statistic)."""
    return {
        "id": event.pk,
        "case": event.case_id,
        "actor": event.actor_id,
        "kind": event.kind,
        "from_stage": event.from_stage,
        "to_stage": event.to_stage,
        "payload": event.payload,
        "created_at": _stamp(event.created_at),
    }


def audit_content(row: AuditLog) -> dict:
    return {
        "id": row.pk,
        "actor": row.actor_id,
        "action": row.action,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "changes": row.changes,
        "ip_address": row.ip_address,
        "created_at": _stamp(row.created_at),
    }


def link_hash(*, prev_hash: str, seq: int, content: dict) -> str:
    return sha256_hex(canonical_json({"prev": prev_hash, "seq": seq, "row": content}))


# --- sealing ------------------------------------------------------------------------------------------


def _locked_heads(keys: list[str]) -> dict[str, ChainHead]:
    """The heads of these chains, created when missing, locked in key order (two sweeps never deadlock)."""
    ChainHead.objects.bulk_create([ChainHead(key=key) for key in keys], ignore_conflicts=True)
    return {head.key: head for head in ChainHead.objects.select_for_update().filter(key__in=keys).order_by("key")}


def _link(rows: Iterable, head: ChainHead, content) -> list:
    linked = []
    for row in rows:
        seq = head.seq + 1
        row.chain_seq, row.prev_hash = seq, head.head_hash or GENESIS
        row.chain_hash = link_hash(prev_hash=row.prev_hash, seq=seq, content=content(row))
        head.seq, head.head_hash = seq, row.chain_hash
        linked.append(row)
    return linked


WRITE_BATCH = 1000


def _update_values(model, rows: list, assignments: str, columns: str, values) -> None:
    """One ``UPDATE … FROM (VALUES …)`` per thousand rows; ``values(row)`` gives the row's id and new values."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), WRITE_BATCH):
            batch = [values(row) for row in rows[start : start + WRITE_BATCH]]
            placeholders = ", ".join([f"({', '.join(['%s'] * len(batch[0]))})"] * len(batch))
            sql = (
                f"UPDATE {table} AS t SET {assignments} "  # noqa: S608  # nosec B608 -- the model's table and fixed column names, values as parameters
                f"FROM (VALUES {placeholders}) AS v({columns}) WHERE t.id = v.id"
            )
            cursor.execute(sql, [value for row in batch for value in row])


def _write_links(model, rows: list) -> None:
    """Store the rows' links. On PostgreSQL one ``UPDATE … FROM (VALUES …)`` per thousand rows: Django's
    ``bulk_update`` builds a CASE expression per row and field, which cost the follow-up sweep most of its
    time (6 of 6.5 s for a batch of a thousand checks)."""
    if connection.vendor != "postgresql":
        model.objects.bulk_update(rows, _CHAIN_FIELDS, batch_size=WRITE_BATCH)
        return
    _update_values(
        model,
        rows,
        "chain_seq = v.seq, prev_hash = v.prev, chain_hash = v.hash",
        "id, seq, prev, hash",
        lambda row: (row.pk, row.chain_seq, row.prev_hash, row.chain_hash),
    )


def _write_heads(heads: list[ChainHead]) -> None:
    """Store the heads' new positions, as ``_write_links`` stores links (the beat task moves hundreds at once).
    A write on one case (nearly every POST) seals one chain: a plain UPDATE, cheapest to compile."""
    if len(heads) == 1:
        head = heads[0]
        ChainHead.objects.filter(pk=head.pk).update(seq=head.seq, head_hash=head.head_hash, updated_at=head.updated_at)
        return
    if connection.vendor != "postgresql":
        ChainHead.objects.bulk_update(heads, ["seq", "head_hash", "updated_at"], batch_size=WRITE_BATCH)
        return
    _update_values(
        ChainHead,
        heads,
        "seq = v.seq, head_hash = v.hash, updated_at = v.at",
        "id, seq, hash, at",
        lambda head: (head.pk, head.seq, head.head_hash, head.updated_at),
    )


@transaction.atomic
def seal_cases(case_ids: Iterable[int]) -> int:
    """Chain the unsealed events of these cases, oldest id first; returns how many were sealed."""
    case_ids = sorted(set(case_ids))
    if not case_ids:
        return 0
    heads = _locked_heads([case_key(case_id) for case_id in case_ids])
    rows: dict[int, list] = {}
    for event in CaseEvent.objects.filter(case_id__in=case_ids, chain_hash="").order_by("id"):
        rows.setdefault(event.case_id, []).append(event)
    sealed = [
        event for case_id, events in rows.items() for event in _link(events, heads[case_key(case_id)], event_content)
    ]
    _write_links(CaseEvent, sealed)
    now = timezone.now()
    for case_id in rows:
        heads[case_key(case_id)].updated_at = now
    _write_heads([heads[case_key(case_id)] for case_id in rows])
    return len(sealed)


@transaction.atomic
def seal_audit(*, limit: int = SEAL_BATCH) -> int:
    """Chain up to ``limit`` unsealed audit rows, oldest id first."""
    head = _locked_heads([AUDIT])[AUDIT]
    sealed = _link(AuditLog.objects.filter(chain_hash="").order_by("id")[:limit], head, audit_content)
    if sealed:
        _write_links(AuditLog, sealed)
        head.save(update_fields=["seq", "head_hash", "updated_at"])
    return len(sealed)


# robust: a failed seal must not turn a committed write into an error page; the sweep seals it later.
def seal_case_on_commit(case_id: int) -> None:
    transaction.on_commit(lambda: seal_cases([case_id]), robust=True)


def seal_cases_on_commit(case_ids: list[int]) -> None:
    if case_ids:
        transaction.on_commit(lambda: seal_cases(case_ids), robust=True)


def seal_pending(*, max_seconds: float | None = None) -> int:
    """The beat task: seal what was left unsealed (the follow-up sweep's events and moves, other bulk inserts,
    a worker that died between commit and seal), a transaction per ``SWEEP_CASES`` cases and per
    ``SEAL_BATCH`` audit rows, lowest case id first, until nothing is left or ``max_seconds`` have passed.
    Every run seals at least one batch and commits each one, so the next run goes on from there."""
    started, sealed = time.monotonic(), 0
    while True:
        case_ids = list(
            CaseEvent.objects.filter(chain_hash="")
            .order_by("case_id")
            .values_list("case_id", flat=True)
            .distinct()[:SWEEP_CASES]
        )
        batch = seal_cases(case_ids) + seal_audit()  # audit rows between case batches: neither waits for the other
        sealed += batch
        if not batch or (max_seconds is not None and time.monotonic() - started >= max_seconds):
            return sealed


@transaction.atomic
def reseal_case(case_id: int) -> tuple[str, str]:
    """Chain a case's events again from the start; returns (old head, new head).

    Only retention calls this, after anonymising the events' payloads as the law requires; its audit row (in
    the audit chain) records both heads, so the rewrite is itself on record."""
    head = _locked_heads([case_key(case_id)])[case_key(case_id)]
    old = head.head_hash
    head.seq, head.head_hash = 0, ""
    rows = _link(CaseEvent.objects.filter(case_id=case_id).order_by("id"), head, event_content)
    CaseEvent.objects.bulk_update(rows, _CHAIN_FIELDS, batch_size=1000)
    head.save(update_fields=["seq", "head_hash", "updated_at"])
    return old, head.head_hash


# --- verifying --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    key: str
    links: int  # sealed rows checked
    head_seq: int
    head_hash: str
    unsealed: int
    broken_row_id: int | None = None  # the first row that no longer matches (None: the tail is missing)
    broken_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return not self.reason


def _head(key: str) -> tuple[int, str]:
    head = ChainHead.objects.filter(key=key).values_list("seq", "head_hash").first()
    return head or (0, "")


def _walk(key: str, head: tuple[int, str], rows: Iterator, content, unsealed: int) -> ChainReport:
    """Check ``rows`` (the sealed links up to the head read before them, in order) against each other and the head."""
    head_seq, head_hash = head
    prev, expected, checked = GENESIS, 1, 0

    def broken(row, reason: str) -> ChainReport:
        return ChainReport(key, checked, head_seq, head_hash, unsealed, row.pk if row else None, expected, reason)

    for row in rows:
        if row.chain_seq != expected:
            return broken(
                row,
                _("link %(expected)s is missing: the row before this one was deleted") % {"expected": expected}
                if row.chain_seq > expected
                else _("link %(seq)s appears twice") % {"seq": row.chain_seq},
            )
        if row.prev_hash != prev:
            return broken(row, _("its previous hash does not match the row before it"))
        if link_hash(prev_hash=prev, seq=expected, content=content(row)) != row.chain_hash:
            return broken(row, _("its content no longer matches its hash: the row was changed"))
        prev, expected, checked = row.chain_hash, expected + 1, checked + 1
    if checked != head_seq or (checked and prev != head_hash):
        return broken(
            None,
            _("the chain ends at link %(last)s but its head is link %(head)s: the newest rows were deleted")
            % {"last": checked, "head": head_seq},
        )
    return ChainReport(key, checked, head_seq, head_hash, unsealed)


def verify_case(case_id: int) -> ChainReport:
    """Recompute a case's chain; the report names the first event that no longer matches.

    The head is read first and the links walked up to it: a seal that commits meanwhile (the beat task, a
    user's write) only adds links past that head, which count as not yet sealed, like the events still
    waiting for the beat task."""
    head = _head(case_key(case_id))
    events = CaseEvent.objects.filter(case_id=case_id)
    unsealed = events.filter(Q(chain_hash="") | Q(chain_seq__gt=head[0])).count()
    sealed = events.exclude(chain_hash="").filter(chain_seq__lte=head[0])
    return _walk(case_key(case_id), head, iter(sealed.order_by("chain_seq", "id")), event_content, unsealed)


def verify_audit() -> ChainReport:
    """Recompute the audit chain up to its head as read first, streaming (millions of rows in constant memory)."""
    head = _head(AUDIT)
    rows = AuditLog.objects.exclude(chain_hash="").filter(chain_seq__lte=head[0])
    unsealed = AuditLog.objects.filter(Q(chain_hash="") | Q(chain_seq__gt=head[0])).count()
    return _walk(AUDIT, head, rows.order_by("chain_seq", "id").iterator(chunk_size=5000), audit_content, unsealed)
