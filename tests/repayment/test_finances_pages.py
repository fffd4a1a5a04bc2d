"""The finances page, evidence and verification through the pages and the API: scoping, bad input refused
with a clear message and nothing changed, the audit rows, the case page panel, both languages."""

import hashlib
import json

import pytest
from django.test import TestCase
from django.urls import reverse

from collections_app.models import AuditLog, CaseEvent
from repayment.models import DeclaredFigure, FinanceEvidence, FinancialDeclaration
from tests.repayment.finances_helpers import D, attach, declare, figure
from tests.repayment.test_views import login
from tests.visits.helpers import image_upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _form(**rows) -> dict:
    data = {
        "source": "negotiation",
        "note": "",
        "idempotency_key": "k-1",
        "fig-TOTAL_FORMS": "6",
        "fig-INITIAL_FORMS": "0",
        "fig-MIN_NUM_FORMS": "0",
        "fig-MAX_NUM_FORMS": "30",
    }
    data.update(rows)
    return data


# --- the page ----------------------------------------------------------------------------------------


def test_the_collector_records_a_declaration_on_the_page(client, negotiation_case, cast):
    login(client, cast.collector_a)
    url = reverse("case-finances", args=[negotiation_case.pk])
    data = _form(**{"fig-0-kind": "salary", "fig-0-amount": "6000", "fig-0-employer": "Acme",
                    "fig-1-kind": "rent", "fig-1-amount": "1500.50"})  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 302
    declaration = FinancialDeclaration.objects.get()
    assert [(f.kind, f.category, f.amount, f.status) for f in declaration.figures.all()] == [
        ("salary", "income", D("6000.00"), "unverified"),
        ("rent", "expense", D("1500.50"), "unverified"),
    ]
    assert client.post(url, data).status_code == 302  # the same form twice records one declaration
    assert FinancialDeclaration.objects.count() == 1
    assert AuditLog.objects.filter(action="finances.declare").count() == 1
    assert CaseEvent.objects.filter(case=negotiation_case, kind="finances").count() == 1
    page = client.get(url).content.decode()
    assert 'data-unverified="2"' in page and "data-figure-row" in page


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ({}, "Declare at least one monthly figure"),
        ({"fig-0-kind": "salary", "fig-0-amount": "-5"}, "greater than or equal to 0"),
        ({"fig-0-kind": "salary", "fig-0-amount": "abc"}, "Enter a number"),
        ({"fig-0-kind": "salary"}, "Enter the monthly amount."),
        ({"fig-0-amount": "100"}, "Say what the amount is."),
        ({"fig-0-kind": "lottery", "fig-0-amount": "100"}, "Select a valid choice"),
        ({"fig-0-kind": "rent", "fig-0-amount": "100", "fig-0-employer": "Acme"}, "for a salary only"),
    ],
)
def test_bad_input_on_the_page_is_refused_and_records_nothing(client, negotiation_case, cast, rows, message):
    login(client, cast.collector_a)
    response = client.post(reverse("case-finances", args=[negotiation_case.pk]), _form(**rows))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not FinancialDeclaration.objects.exists() and not DeclaredFigure.objects.exists()
    assert not AuditLog.objects.filter(action__startswith="finances.").exists()


def test_evidence_and_verification_on_the_page(client, negotiation_case, cast):
    declaration = declare(negotiation_case, cast.collector_a, ("salary", "6000.00"))
    salary = figure(declaration, "salary")
    login(client, cast.supervisor_x)
    upload = image_upload()
    digest = hashlib.sha256(upload.read()).hexdigest()
    upload.seek(0)
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(
            reverse("finance-figure-evidence", args=[salary.pk]),
            {"kind": "payslip", "photo": upload},
        )
    evidence = FinanceEvidence.objects.get()
    assert evidence.sha256 == digest and evidence.uploaded_by == cast.supervisor_x
    assert client.get(reverse("finance-evidence", args=[evidence.pk])).status_code == 200
    verify_url = reverse("finance-figure-verify", args=[salary.pk])
    client.post(verify_url, {"action": "verify", "evidence": evidence.pk,
                             "verified_amount": "5800"})  # fmt: skip
    salary.refresh_from_db()
    assert (salary.status, salary.verified_amount, salary.evidence_id) == ("verified", D("5800.00"), evidence.pk)
    audit = AuditLog.objects.get(action="finances.verify")
    assert audit.actor == cast.supervisor_x and audit.changes["after"]["verified_amount"] == "5800.00"

    page = client.post(verify_url, {"action": "unverify", "note": ""}, follow=True)
    assert "Say why the figure is unverified." in page.content.decode()
    salary.refresh_from_db()
    assert salary.status == "verified"
    client.post(verify_url, {"action": "unverify", "note": "Payslip is a year old"})
    salary.refresh_from_db()
    assert (salary.status, salary.verified_amount, salary.evidence_id) == ("unverified", None, None)
    assert AuditLog.objects.filter(action="finances.unverify").count() == 1


def test_a_file_that_is_not_a_photo_is_refused(client, negotiation_case, cast):
    from django.core.files.uploadedfile import SimpleUploadedFile

    declaration = declare(negotiation_case, cast.collector_a, ("salary", "6000.00"))
    salary = figure(declaration, "salary")
    login(client, cast.collector_a)
    fake = SimpleUploadedFile("payslip.png", b"%PDF-1.4 not an image", content_type="image/png")
    page = client.post(
        reverse("finance-figure-evidence", args=[salary.pk]),
        {"kind": "payslip", "photo": fake},
        follow=True,
    )
    assert "is not a JPEG, PNG or WebP photo" in page.content.decode()
    assert not FinanceEvidence.objects.exists()


def test_verifying_with_another_figures_evidence_is_refused(client, negotiation_case, cast):
    declaration = declare(negotiation_case, cast.collector_a, ("salary", "6000.00"), ("rent", "1000.00"))
    salary, rent = figure(declaration, "salary"), figure(declaration, "rent")
    rent_evidence = attach(rent, cast.collector_a)
    login(client, cast.collector_a)
    page = client.post(
        reverse("finance-figure-verify", args=[salary.pk]),
        {"action": "verify", "evidence": rent_evidence.pk},
        follow=True,
    )
    assert "Select a valid choice" in page.content.decode()
    salary.refresh_from_db()
    assert salary.status == "unverified"


# --- scoping -----------------------------------------------------------------------------------------


def test_a_collector_sees_and_changes_only_their_own_cases_finances(client, negotiation_case, cast):
    declaration = declare(negotiation_case, cast.collector_a, ("salary", "6000.00"))
    salary = figure(declaration, "salary")
    evidence = attach(salary, cast.collector_a)
    login(client, cast.collector_b)
    assert client.get(reverse("case-finances", args=[negotiation_case.pk])).status_code == 404
    assert client.get(reverse("finance-evidence", args=[evidence.pk])).status_code == 404
    response = client.post(
        reverse("finance-figure-verify", args=[salary.pk]),
        {"action": "verify", "evidence": evidence.pk},
    )
    assert response.status_code == 404
    assert client.get(reverse("api:finance-list")).json()["results"] == []
    assert client.get(reverse("api:finance-figure-detail", args=[salary.pk])).status_code == 404
    salary.refresh_from_db()
    assert salary.status == "unverified"


def test_the_manager_reads_but_does_not_change(client, negotiation_case, cast):
    declare(negotiation_case, cast.collector_a, ("salary", "6000.00"))
    login(client, cast.manager)
    url = reverse("case-finances", args=[negotiation_case.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'id="declaration-form"' not in page.content.decode()
    assert client.post(url, _form(**{"fig-0-kind": "salary", "fig-0-amount": "1"})).status_code == 403
    assert FinancialDeclaration.objects.count() == 1


# --- the case page and the languages -------------------------------------------------------------------


def test_the_case_page_panel_shows_the_flags(client, negotiation_case, cast):
    declare(negotiation_case, cast.collector_a, ("salary", "1000.00"), source="visit", assets=["vehicle"])
    login(client, cast.collector_a)
    page = client.get(reverse("case-detail", args=[negotiation_case.pk])).content.decode()
    panel = page[page.index('id="finances-panel"') :]
    assert 'data-flag="asset"' in panel and "A vehicle" in panel and 'data-unverified="1"' in panel


def test_the_finances_page_speaks_chinese(client, negotiation_case, cast):
    declare(negotiation_case, cast.collector_a, ("salary", "1000.00"), source="visit", assets=["vehicle"])
    login(client, cast.collector_a)
    client.cookies["django_language"] = "zh-hans"
    page = client.get(reverse("case-finances", args=[negotiation_case.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert "申报与核实" in html and "工资" in html and "车辆" in html


# --- the API -----------------------------------------------------------------------------------------


def _api_body(target, **overrides):
    body = {
        "case": target.pk,
        "source": "visit",
        "assets_seen": ["vehicle"],
        "figures": [
            {"kind": "salary", "amount": "4000.00", "employer": "Acme"},
            {"kind": "credit_card", "amount": "800.00"},
        ],
    }
    body.update(overrides)
    return body


def test_the_api_records_a_declaration_with_its_flags(client, negotiation_case, cast):
    client.force_login(cast.collector_a)
    url = reverse("api:finance-list")
    response = client.post(url, json.dumps(_api_body(negotiation_case)), content_type="application/json",
                           headers={"Idempotency-Key": "decl-1"})  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert [f["kind"] for f in body["figures"]] == ["salary", "credit_card"]
    assert [f["code"] for f in body["flags"]] == ["asset"]
    again = client.post(url, json.dumps(_api_body(negotiation_case)), content_type="application/json",
                        headers={"Idempotency-Key": "decl-1"})  # fmt: skip
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert FinancialDeclaration.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [
        ({"figures": []}, 400, "figures"),
        ({"figures": [{"kind": "salary", "amount": 4000}]}, 400, "figures"),  # a number, not a string
        ({"figures": [{"kind": "salary", "amount": "-1.00"}]}, 400, "figures"),
        ({"figures": [{"kind": "salary", "amount": "1.001"}]}, 400, "figures"),
        ({"figures": [{"kind": "lottery", "amount": "1.00"}]}, 400, "figures"),
        ({"source": "phone"}, 400, "source"),
        ({"assets_seen": ["yacht"]}, 400, "assets_seen"),
        ({"assets_seen": ["vehicle", "vehicle"]}, 409, "assets_seen"),
        ({"figures": [{"kind": "rent", "amount": "1.00", "employer": "Acme"}]}, 409, "figures.0.employer"),
        ({"visit": 999999}, 404, "visit"),
        ({"case": True}, 400, "case"),
    ],
)
def test_bad_api_input_is_refused_with_a_clear_message_and_nothing_changes(
    client, negotiation_case, cast, overrides, status, field
):
    client.force_login(cast.collector_a)
    body = _api_body(negotiation_case, **overrides)
    response = client.post(reverse("api:finance-list"), json.dumps(body), content_type="application/json")
    assert response.status_code == status, response.content
    answer = response.json()
    assert answer["detail"] and field in answer["errors"]
    assert not FinancialDeclaration.objects.exists() and not DeclaredFigure.objects.exists()
    assert not AuditLog.objects.filter(action__startswith="finances.").exists()


def test_the_api_attaches_evidence_and_verifies(client, negotiation_case, cast):
    declaration = declare(negotiation_case, cast.collector_a, ("salary", "6000.00"))
    salary = figure(declaration, "salary")
    client.force_login(cast.supervisor_x)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse("api:finance-figure-evidence", args=[salary.pk]), {"kind": "payslip", "photo": image_upload()}
        )
    assert response.status_code == 201, response.content
    evidence_id = response.json()["evidence_items"][0]["id"]
    verify_url = reverse("api:finance-figure-verify", args=[salary.pk])
    wrong = client.post(verify_url, {"evidence": 999999}, content_type="application/json")
    assert wrong.status_code == 409 and "evidence" in wrong.json()["errors"]
    bad_amount = client.post(
        verify_url, {"evidence": evidence_id, "verified_amount": "x"}, content_type="application/json"
    )
    assert bad_amount.status_code == 400
    salary.refresh_from_db()
    assert salary.status == "unverified"
    done = client.post(
        verify_url, {"evidence": evidence_id, "verified_amount": "5500.00"}, content_type="application/json"
    )
    assert done.status_code == 200 and done.json()["status"] == "verified"
    assert done.json()["effective_amount"] == "5500.00"
    unverify_url = reverse("api:finance-figure-unverify", args=[salary.pk])
    assert client.post(unverify_url, {}, content_type="application/json").status_code == 400
    undone = client.post(unverify_url, {"note": "Old payslip"}, content_type="application/json")
    assert undone.status_code == 200 and undone.json()["status"] == "unverified"


def test_the_api_refuses_a_non_image_as_evidence(client, negotiation_case, cast):
    from django.core.files.uploadedfile import SimpleUploadedFile

    declaration = declare(negotiation_case, cast.collector_a, ("salary", "6000.00"))
    salary = figure(declaration, "salary")
    client.force_login(cast.collector_a)
    fake = SimpleUploadedFile("payslip.png", b"not an image", content_type="image/png")
    response = client.post(reverse("api:finance-figure-evidence", args=[salary.pk]), {"kind": "payslip", "photo": fake})
    assert response.status_code == 409 and "photo" in response.json()["errors"]
    assert not FinanceEvidence.objects.exists()


def test_the_manager_cannot_verify_through_the_api(client, negotiation_case, cast):
    declaration = declare(negotiation_case, cast.collector_a, ("salary", "6000.00"))
    salary = figure(declaration, "salary")
    evidence = attach(salary, cast.collector_a)
    client.force_login(cast.manager)
    response = client.post(
        reverse("api:finance-figure-verify", args=[salary.pk]),
        {"evidence": evidence.pk},
        content_type="application/json",
    )
    assert response.status_code == 403
    salary.refresh_from_db()
    assert salary.status == "unverified"
