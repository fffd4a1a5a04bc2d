"""The hash chains: an untouched case verifies; a changed, a deleted and a missing newest event, a swapped
photo, a changed or removed audit row are each detected and named."""

import itertools

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from collections_app import chain
from collections_app.models import AuditLog, CaseEvent, ChainHead
from collections_app.services.audit import audit_log
from evidence.verify import verify_case_evidence
from tests.evidence.conftest import tamper

pytestmark = pytest.mark.django_db


def _sealed(case):
    chain.seal_cases([case.pk])
    chain.seal_audit()
    return list(CaseEvent.objects.filter(case=case).order_by("chain_seq"))


def test_an_untouched_case_verifies_and_every_event_links_to_the_one_before(visited_case):
    events = _sealed(visited_case)
    assert len(events) >= 5 and [e.chain_seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == chain.GENESIS
    assert all(later.prev_hash == earlier.chain_hash for earlier, later in itertools.pairwise(events))
    result = verify_case_evidence(visited_case.pk)
    assert result.ok and result.chain.links == len(events) and result.photos_checked == 1
    head = ChainHead.objects.get(key=chain.case_key(visited_case.pk))
    assert (head.seq, head.head_hash) == (len(events), events[-1].chain_hash) == (len(events), result.chain.head_hash)


def test_the_visit_event_chains_the_photo_digests(visited_case):
    event = CaseEvent.objects.get(case=visited_case, kind=CaseEvent.Kind.VISIT)
    assert event.payload["photo_sha256"] == [visited_case.visit.photos.get().sha256]


def test_sealing_twice_changes_nothing_and_new_events_extend_the_chain(visited_case, cast):
    events = _sealed(visited_case)
    assert chain.seal_cases([visited_case.pk]) == 0
    CaseEvent.objects.create(case=visited_case, actor=cast.collector_a, kind=CaseEvent.Kind.NOTE, payload={"x": 1})
    assert chain.seal_pending() == 1
    newest = CaseEvent.objects.filter(case=visited_case).order_by("-chain_seq").first()
    assert newest.chain_seq == len(events) + 1 and newest.prev_hash == events[-1].chain_hash
    assert verify_case_evidence(visited_case.pk).ok


def test_a_changed_event_is_detected_and_named(visited_case):
    events = _sealed(visited_case)
    target = events[2]
    CaseEvent.objects.filter(pk=target.pk).update(payload={**target.payload, "note": "changed later"})
    report = verify_case_evidence(visited_case.pk).chain
    assert not report.ok and report.broken_row_id == target.pk and report.broken_seq == 3
    assert "changed" in report.reason


def test_a_deleted_event_is_detected_at_the_row_after_it(visited_case):
    events = _sealed(visited_case)
    CaseEvent.objects.filter(pk=events[1].pk).delete()
    report = verify_case_evidence(visited_case.pk).chain
    assert not report.ok and report.broken_row_id == events[2].pk and "deleted" in report.reason


def test_deleting_the_newest_events_is_detected_by_the_head(visited_case):
    events = _sealed(visited_case)
    CaseEvent.objects.filter(pk__in=[events[-1].pk, events[-2].pk]).delete()
    report = verify_case_evidence(visited_case.pk).chain
    assert not report.ok and report.broken_row_id is None and "newest" in report.reason


def test_a_rehashed_event_still_breaks_the_link_after_it(visited_case):
    events = _sealed(visited_case)
    target = events[1]
    target.payload = {"forged": True}
    forged = chain.link_hash(prev_hash=target.prev_hash, seq=target.chain_seq, content=chain.event_content(target))
    CaseEvent.objects.filter(pk=target.pk).update(payload=target.payload, chain_hash=forged)
    report = verify_case_evidence(visited_case.pk).chain
    assert not report.ok and report.broken_row_id == events[2].pk


def test_a_swapped_photo_is_detected(visited_case, _private_media):
    _sealed(visited_case)
    photo = visited_case.visit.photos.get()
    (_private_media / photo.file.name).write_bytes(b"another picture")
    result = verify_case_evidence(visited_case.pk)
    assert result.chain.ok and not result.ok
    assert [p.photo_id for p in result.photo_problems] == [photo.pk]
    # Rewriting the stored digest to match the new file does not help: the chained visit event holds the old one.
    import hashlib

    type(photo).objects.filter(pk=photo.pk).update(sha256=hashlib.sha256(b"another picture").hexdigest())
    result = verify_case_evidence(visited_case.pk)
    assert not result.ok and "recorded" in result.photo_problems[0].reason


def test_the_audit_chain_detects_a_changed_and_a_removed_row(cast):
    rows = [audit_log(actor=cast.manager, action=f"case.note.{n}") for n in range(5)]
    chain.seal_audit()
    assert chain.verify_audit().ok and chain.verify_audit().links == AuditLog.objects.count()
    tamper("UPDATE collections_app_auditlog SET action = %s WHERE id = %s", ["case.other", rows[2].pk])
    report = chain.verify_audit()
    assert not report.ok and report.broken_row_id == rows[2].pk
    tamper("UPDATE collections_app_auditlog SET action = %s WHERE id = %s", ["case.note.2", rows[2].pk])
    assert chain.verify_audit().ok
    tamper("DELETE FROM collections_app_auditlog WHERE id = %s", [rows[1].pk])
    report = chain.verify_audit()
    assert not report.ok and report.broken_row_id == rows[2].pk and "deleted" in report.reason


def test_verify_evidence_command_reports_ok_and_names_the_first_broken_row(visited_case, capsys):
    events = _sealed(visited_case)
    call_command("verify_evidence", str(visited_case.pk), "--audit")
    out = capsys.readouterr().out
    assert f"case {visited_case.pk}: OK" in out and "audit trail: OK" in out
    CaseEvent.objects.filter(pk=events[0].pk).update(kind="note")
    with pytest.raises(CommandError, match="does not verify"):
        call_command("verify_evidence", str(visited_case.pk))
    assert f"BROKEN at row {events[0].pk} (link 1)" in capsys.readouterr().out
    with pytest.raises(CommandError, match="No case 999999"):
        call_command("verify_evidence", "999999")


def test_unsealed_rows_are_counted_not_reported_as_broken(case_a):
    report = chain.verify_case(case_a.pk)
    assert report.ok and report.unsealed == CaseEvent.objects.filter(case=case_a).count() > 0


def test_links_sealed_after_the_head_was_read_are_pending_not_a_chain_past_its_head(visited_case, cast, monkeypatch):
    """A seal that commits while a verification reads (the beat task sealing what the sweep left) adds links
    past the head the verification read first: they count as not yet sealed, the chain up to the head as OK."""
    events = _sealed(visited_case)
    read_first = chain._head(chain.case_key(visited_case.pk))
    CaseEvent.objects.create(case=visited_case, actor=cast.collector_a, kind=CaseEvent.Kind.NOTE, payload={"x": 1})
    CaseEvent.objects.create(case=visited_case, actor=cast.collector_a, kind=CaseEvent.Kind.NOTE, payload={"x": 2})
    assert chain.seal_pending() >= 2
    monkeypatch.setattr(chain, "_head", lambda key: read_first)
    report = chain.verify_case(visited_case.pk)
    assert report.ok and (report.links, report.head_seq, report.unsealed) == (len(events), len(events), 2)
    # Deleting a link up to that head is still caught.
    CaseEvent.objects.filter(pk=events[-1].pk).delete()
    report = chain.verify_case(visited_case.pk)
    assert not report.ok and "newest" in report.reason


def test_audit_rows_sealed_after_the_head_was_read_are_pending(cast, monkeypatch):
    for n in range(3):
        audit_log(actor=cast.manager, action=f"case.note.{n}")
    chain.seal_audit()
    read_first = chain._head(chain.AUDIT)
    audit_log(actor=cast.manager, action="case.note.late")
    assert chain.seal_audit() == 1
    monkeypatch.setattr(chain, "_head", lambda key: read_first)
    report = chain.verify_audit()
    assert report.ok and (report.links, report.unsealed) == (read_first[0], 1)


@pytest.mark.postgres
def test_postgresql_lets_only_sealing_update_an_audit_row_and_refuses_truncate(cast):
    row = audit_log(actor=cast.manager, action="case.note")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditLog.objects.filter(pk=row.pk).update(action="x", chain_hash="f" * 64)
    chain.seal_audit()
    row.refresh_from_db()
    assert row.chain_hash and row.action == "case.note"
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditLog.objects.filter(pk=row.pk).update(chain_hash="f" * 64)
    with pytest.raises(DatabaseError, match="TRUNCATE refused"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred foreign-key checks would refuse first
        cursor.execute("SET LOCAL doorstep.allow_audit_truncate = 'off'")
        cursor.execute("TRUNCATE collections_app_auditlog CASCADE")
    assert AuditLog.objects.filter(pk=row.pk).exists()
