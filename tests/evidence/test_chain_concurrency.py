"""Concurrent writers on PostgreSQL: every row is sealed once, in one unbroken chain."""

import threading

import pytest
from django.db import connection, transaction

from collections_app import chain
from collections_app.models import AuditLog, CaseEvent
from collections_app.services.audit import audit_log
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
