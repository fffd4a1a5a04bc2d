"""Concurrent writers and sealers on PostgreSQL: every row is sealed once, in one unbroken chain."""

import json
import threading
import time

import pytest
from django.db import connection, transaction

from collections_app import chain
from collections_app.models import AuditLog, Case, CaseEvent
from collections_app.services.audit import audit_log
from collections_app.services.authority import case_lock, cases_lock
from collections_app.services.bulk_rows import insert_rows
from collections_app.services.cases import case_event_add

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WRITERS, WRITES = 6, 5


def test_concurrent_appends_chain_correctly(case_a, cast):
    start = threading.Barrier(WRITERS)
    errors = []

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(WRITES):
                with transaction.atomic():  # each commit seals its case's new event (on_commit)
                    case_event_add(case=case_a, actor=cast.collector_a, kind="note", payload={"w": n, "i": i})
                    audit_log(actor=cast.collector_a, action="case.note", obj=case_a, changes={"w": n, "i": i})
                chain.seal_audit()  # as concurrent sweeps would
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert not CaseEvent.objects.filter(case=case_a, chain_hash="").exists()
    assert not AuditLog.objects.filter(chain_hash="").exists()
    case_report, audit_report = chain.verify_case(case_a.pk), chain.verify_audit()
    assert case_report.ok and case_report.links == CaseEvent.objects.filter(case=case_a).count()
    assert audit_report.ok and audit_report.links == AuditLog.objects.count()


def test_the_beat_task_sealing_while_users_and_the_sweep_write_on_the_same_case_keeps_one_chain(case_a, cast):
    """The beat task seals what the sweep left while users add events (each sealed by its commit hook) and
    the sweep adds more it leaves unsealed, all on one case; a manager verifies the case meanwhile. Every
    event ends in one unbroken chain, and no verification on the way reports the chain broken."""
    insert_rows(CaseEvent, [{"case_id": case_a.pk, "kind": "follow_up", "payload": {"n": n}} for n in range(40)])
    before = CaseEvent.objects.filter(case=case_a).count()
    writing = threading.Event()
    errors, reports = [], []

    def guarded(body):
        def run() -> None:
            try:
                body()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                connection.close()

        return run

    def user(n: int) -> None:
        writing.wait()
        for i in range(WRITES):
            with transaction.atomic():  # as a service does: the case lock first, the seal after the commit
                case = case_lock(Case.objects.get(pk=case_a.pk))
                case_event_add(case=case, actor=cast.collector_a, kind="note", payload={"w": n, "i": i})

    def sweep() -> None:
        writing.wait()
        for i in range(WRITES):
            with transaction.atomic():  # as the follow-up sweep does: its cases locked, its events left unsealed
                cases_lock([case_a.pk])
                rows = [{"case_id": case_a.pk, "kind": "follow_up", "payload": {"i": i, "k": k}} for k in range(5)]
                insert_rows(CaseEvent, rows)

    def beat() -> None:
        writing.wait()
        for _ in range(WRITES * 2):
            chain.seal_pending()

    def verifier() -> None:
        writing.wait()
        for _ in range(WRITES * 4):
            reports.append(chain.verify_case(case_a.pk))

    bodies = [*(lambda n=n: user(n) for n in range(3)), sweep, beat, beat, verifier]
    threads = [threading.Thread(target=guarded(body)) for body in bodies]
    for thread in threads:
        thread.start()
    writing.set()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a sealer or a writer hung (lock wait)"
    assert errors == []
    assert reports and [r.reason for r in reports if not r.ok] == []
    chain.seal_pending()  # the beat task's next run: whatever the sweep wrote after the last one
    events = CaseEvent.objects.filter(case=case_a)
    assert not events.filter(chain_hash="").exists()
    assert sorted(events.values_list("chain_seq", flat=True)) == list(range(1, events.count() + 1))
    report = chain.verify_case(case_a.pk)
    assert report.ok and report.links == events.count() == before + 3 * WRITES + 5 * WRITES


def test_a_pack_waits_for_a_writer_holding_the_case_and_seals_its_event_into_the_pack(visited_case, cast):
    """A pack is built under the case's lock: an event a writer holds uncommitted when the build starts is in
    the pack, sealed, not missing from it or listed there as not sealed."""
    from evidence.services import evidence_pack_build, legal_escalate

    summary = "借款人多次拒绝还款。走访三次未果。建议提起诉讼。"
    legal_escalate(case=visited_case, actor=cast.supervisor_x, summary=summary)  # commits; the first pack
    held, written, errors = threading.Event(), [], []

    def writer() -> None:
        try:
            with transaction.atomic():
                cases_lock([visited_case.pk])
                insert_rows(CaseEvent, [{"case_id": visited_case.pk, "kind": "follow_up", "payload": {"late": 1}}])
                written.append(CaseEvent.objects.filter(case=visited_case, payload={"late": 1}).get().pk)
                held.set()
                time.sleep(1)  # the pack's build has started and waits for the lock
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            held.set()
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    held.wait(timeout=30)
    pack = evidence_pack_build(
        case=Case.objects.get(pk=visited_case.pk), actor=cast.supervisor_x, summary=summary, language="en"
    )
    thread.join(timeout=30)
    assert errors == [] and written
    manifest = json.loads(pack.manifest.open("rb").read())
    late = [event for event in manifest["events"] if event["id"] == written[0]]
    assert len(late) == 1 and late[0]["hash"] and manifest["chain"]["verified"]
    assert [event["seq"] for event in manifest["events"]] == list(range(1, pack.chain_seq + 1))
