"""Escalating to legal builds an evidence pack: a PDF whose text holds the case, its timeline and the chain
head, and a manifest whose digests verify; only the case's supervisor and managers may fetch it."""

import datetime as dt
import hashlib
import io
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from collections_app.exceptions import DoorstepError, TransitionNotAllowed
from collections_app.models import AuditLog, CaseEvent, CloseReason, Stage
from evidence.models import EvidencePack
from evidence.services import evidence_pack_build, legal_escalate
from repayment.services.promises import promise_create

pytestmark = pytest.mark.django_db

SUMMARY = "借款人多次拒绝还款。走访三次未果。建议提起诉讼。"


def _text(pack: EvidencePack) -> str:
    with pack.pdf.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def escalate(django_capture_on_commit_callbacks):
    """``legal_escalate`` as a request runs it: committed, so the pack is built by the close's reaction."""

    def run(**kwargs) -> EvidencePack:
        with django_capture_on_commit_callbacks(execute=True):
            legal_escalate(**kwargs)
        return EvidencePack.objects.filter(case=kwargs["case"]).order_by("-id").first()

    return run


@pytest.fixture
def named_case(visited_case):
    borrower = visited_case.account.borrower
    borrower.name = "张伟"
    borrower.save(update_fields=["name"])
    return visited_case


def test_supervisor_escalates_and_the_pdf_holds_the_case_timeline_and_chain_head(named_case, cast, escalate):
    pack = escalate(case=named_case, actor=cast.supervisor_x, summary=SUMMARY)
    named_case.refresh_from_db()
    assert (named_case.stage, named_case.close_reason) == (Stage.CLOSED, CloseReason.LEGAL)
    text = _text(pack)
    assert "张伟" in text and named_case.account.account_no in text and SUMMARY[:10] in text
    assert "时间线" in text and "走访" in text  # the pack is in Chinese by default
    # The timeline: every event before the pack's own, with its link hash.
    events = CaseEvent.objects.filter(case=named_case).exclude(kind="evidence_pack").order_by("chain_seq")
    assert pack.chain_seq == events.count() and pack.chain_head == events.last().chain_hash
    assert pack.chain_head in text.replace("\n", "") and pack.chain_ok
    photo = named_case.visit.photos.get()
    assert photo.sha256 in text.replace("\n", "")
    # The pack extends the chain and is on the audit record with its digests.
    pack_event = CaseEvent.objects.get(case=named_case, kind="evidence_pack")
    assert pack_event.payload["pdf_sha256"] == pack.pdf_sha256
    assert AuditLog.objects.get(action="evidence.pack").changes["manifest_sha256"] == pack.manifest_sha256


def test_manifest_verifies_the_pdf_and_lists_every_link_and_photo(named_case, cast, escalate):
    pack = escalate(case=named_case, actor=cast.supervisor_x, summary=SUMMARY)
    manifest_bytes = pack.manifest.open("rb").read()
    pdf_bytes = pack.pdf.open("rb").read()
    assert hashlib.sha256(manifest_bytes).hexdigest() == pack.manifest_sha256
    manifest = json.loads(manifest_bytes)
    assert manifest["files"] == [
        {
            "name": f"evidence-case-{named_case.pk}.pdf",
            "sha256": hashlib.sha256(pdf_bytes).hexdigest(),
            "size": len(pdf_bytes),
        }
    ]
    assert manifest["chain"] == {
        "key": f"case:{named_case.pk}",
        "seq": pack.chain_seq,
        "head": pack.chain_head,
        "verified": True,
    }
    assert [e["seq"] for e in manifest["events"]] == list(range(1, pack.chain_seq + 1))
    photo = named_case.visit.photos.get()
    assert manifest["photos"] == [
        {"id": photo.pk, "visit": named_case.visit.pk, "sha256": photo.sha256, "file_sha256": photo.sha256}
    ]


def test_english_pack_with_promises_and_refusals(named_case, cast, escalate):
    promise_create(case=named_case, actor=cast.collector_a, amount=Decimal("2000.00"), due_date=dt.date(2026, 3, 20))
    pack = escalate(case=named_case, actor=cast.supervisor_x, summary="Refused three times; court next.", language="en")
    text = _text(pack)
    assert "Timeline" in text and "Promises to pay" in text and "2,000.00" in text and "Hash chain" in text


def test_summary_is_required_and_only_supervisors_escalate(named_case, cast):
    with pytest.raises(DoorstepError, match="summary"):
        legal_escalate(case=named_case, actor=cast.supervisor_x, summary="  too short ")
    with pytest.raises(TransitionNotAllowed):
        legal_escalate(case=named_case, actor=cast.collector_a, summary=SUMMARY)
    named_case.refresh_from_db()
    assert named_case.is_open and not EvidencePack.objects.exists()
    with pytest.raises(TransitionNotAllowed):
        evidence_pack_build(case=named_case, actor=cast.supervisor_x, summary=SUMMARY, language="en")


def test_downloads_are_scoped_and_audited(client, named_case, cast, escalate):
    pack = escalate(case=named_case, actor=cast.supervisor_x, summary=SUMMARY)
    pdf_url, manifest_url = (
        reverse("evidence-pack-pdf", args=[pack.pk]),
        reverse("evidence-pack-manifest", args=[pack.pk]),
    )
    for who, status in (("collector_a", 403), ("supervisor_y", 404)):
        client.force_login(getattr(cast, who))
        assert client.get(pdf_url).status_code == status
        assert client.get(manifest_url).status_code == status
    for who in ("supervisor_x", "manager"):
        client.force_login(getattr(cast, who))
        response = client.get(pdf_url)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == pack.pdf_sha256
        assert client.get(manifest_url).status_code == 200
    assert AuditLog.objects.filter(action="evidence.download_pdf").count() == 2
    assert client.post(pdf_url).status_code == 405
    assert client.get(reverse("evidence-pack-pdf", args=[999999])).status_code == 404


def test_escalation_page(client, named_case, cast, django_capture_on_commit_callbacks):
    url = reverse("case-legal", args=[named_case.pk])
    client.force_login(cast.collector_a)
    assert client.get(url).status_code == 403
    client.force_login(cast.supervisor_y)
    assert client.get(url).status_code == 404
    client.force_login(cast.supervisor_x)
    assert client.get(url).status_code == 200
    response = client.post(url, {"summary": "short", "language": "zh-hans"})
    assert response.status_code == 200 and not EvidencePack.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"summary": SUMMARY, "language": "zh-hans"})
    # One pack: the page closes the case and the close's reaction builds it (the page builds none itself).
    assert response.status_code == 302 and EvidencePack.objects.count() == 1
    # Closed as legal: the page builds a new pack from then on.
    assert client.post(url, {"summary": SUMMARY, "language": "en"}).status_code == 302
    assert EvidencePack.objects.count() == 2


def test_case_page_panel_by_role_without_extra_queries_per_pack(
    client, named_case, cast, django_assert_max_num_queries, escalate
):
    escalate(case=named_case, actor=cast.supervisor_x, summary=SUMMARY)
    client.force_login(cast.collector_a)
    assert 'id="evidence"' not in client.get(named_case.get_absolute_url()).content.decode()
    client.force_login(cast.supervisor_x)
    page = client.get(named_case.get_absolute_url()).content.decode()
    assert 'id="evidence"' in page and "data-pack=" in page
    with django_assert_max_num_queries(40) as one:
        client.get(named_case.get_absolute_url())
    evidence_pack_build(case=named_case, actor=cast.supervisor_x, summary=SUMMARY, language="en")
    evidence_pack_build(case=named_case, actor=cast.supervisor_x, summary=SUMMARY, language="en")
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(named_case.get_absolute_url())


def test_verify_evidence_command_on_an_escalated_case(named_case, cast, capsys, escalate):
    from django.core.management import call_command

    escalate(case=named_case, actor=cast.supervisor_x, summary=SUMMARY)
    call_command("verify_evidence", str(named_case.pk), "--seal")
    assert f"case {named_case.pk}: OK" in capsys.readouterr().out
