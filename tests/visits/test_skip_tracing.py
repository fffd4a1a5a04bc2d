"""Contacts found in the field (skip tracing): found at a visit or a contact attempt, verified later,
wrong numbers never dialled, the history of each point on the case page, scoped like the case."""

import pytest
from django.urls import reverse

from collections_app.exceptions import DoorstepError, NotPermitted
from collections_app.models import (
    AuditLog,
    BorrowerAddress,
    BorrowerPhone,
    CaseEvent,
    ContactPointChange,
    ContactStatus,
    Stage,
)
from collections_app.services.contacts import FoundContact, contact_point_add, contact_point_set_status
from tests.factories import AccountFactory
from tests.visits.helpers import plan_data, visit_data
from visits.models import ContactAttempt
from visits.services import contact_attempt_log

pytestmark = pytest.mark.django_db

NEW_NUMBER = "13987654321"


def _found_phone(case, actor, number=NEW_NUMBER, **kw):
    found = FoundContact(kind="phone", value=number, **kw)
    return contact_point_add(case=case, actor=actor, found=found, origin=ContactPointChange.Origin.CASE)


def _status(client, case, kind, point, status, note=""):
    url = reverse("contact-point-status", args=[case.pk])
    return client.post(url, {"kind": kind, "point": point.pk, "status": status, "note": note})


def test_a_visit_adds_a_third_partys_number_told_by_a_neighbour(client, cast, case_in_stage):
    case = case_in_stage(Stage.VISIT)
    client.force_login(cast.collector_a)
    data = visit_data(
        met="third_party",
        outcome="not_home",
        monthly_income="",
        monthly_expenses="",
        other_debt_payments="",
        overdue_reason="",
        overdue_reason_text="",
        found_kind="phone",
        found_value="139 8765 4321",
        found_party="third_party",
        found_holder="sister",
        found_source="neighbour",
    )
    response = client.post(reverse("visit-create", args=[case.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    phone = BorrowerPhone.objects.get(number=NEW_NUMBER)
    assert phone.borrower_id == case.account.borrower_id
    assert (phone.party, phone.holder, phone.source, phone.status) == (
        "third_party",
        "sister",
        "neighbour",
        "unverified",
    )
    assert phone.found_by == cast.collector_a and phone.found_case == case and phone.found_on is not None
    change = ContactPointChange.objects.get(phone=phone)
    assert (change.action, change.origin, change.to_status) == ("found", "visit", "unverified")
    assert AuditLog.objects.filter(action="contact_point.found", object_id=str(phone.pk)).exists()
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.CONTACT_FOUND).count() == 1

    page = client.get(case.get_absolute_url()).content.decode()
    assert "139****4321" in page and NEW_NUMBER not in page  # masked, like every phone
    assert f'data-contact-point="phone-{phone.pk}"' in page and "sister" in page and "Neighbour" in page


def test_a_contact_attempt_adds_an_address_told_by_the_employer(client, cast, case_a):
    client.force_login(cast.collector_a)
    phone = case_a.account.borrower.phones.get()
    payload = {
        "channel": "call",
        "party": "borrower",
        "phone": phone.pk,
        "result": "answered",
        "found_kind": "address",
        "found_value": "Wuzhong Road 88, room 502",
        "found_source": "employer",
    }
    response = client.post(reverse("contact-attempt-create", args=[case_a.pk]), payload)
    assert response.status_code == 302
    address = BorrowerAddress.objects.get(text="Wuzhong Road 88, room 502")
    assert (address.source, address.status, address.party) == ("employer", "unverified", "borrower")
    assert ContactPointChange.objects.get(address=address).origin == "contact_attempt"


def test_a_found_contact_needs_a_real_number_and_a_kind(client, cast, case_a):
    client.force_login(cast.collector_a)
    phone = case_a.account.borrower.phones.get()
    base = {"channel": "call", "party": "borrower", "phone": phone.pk, "result": "answered"}
    url = reverse("contact-attempt-create", args=[case_a.pk])
    response = client.post(url, {**base, "found_kind": "phone", "found_value": "call me"})
    assert response.status_code == 200 and "Enter a phone number" in response.content.decode()
    response = client.post(url, {**base, "found_value": "13900000000"})
    assert response.status_code == 200 and "Choose whether a phone or an address was found" in response.content.decode()
    assert not ContactAttempt.objects.exists() and BorrowerPhone.objects.count() == 1


def test_a_number_already_on_file_is_not_added_twice_but_its_history_says_so(cast, case_a):
    first = _found_phone(case_a, cast.collector_a)
    again = _found_phone(case_a, cast.collector_a, source="employer")
    assert again.pk == first.pk and BorrowerPhone.objects.filter(number=NEW_NUMBER).count() == 1
    assert list(first.changes.values_list("action", "source")) == [("found", "borrower"), ("found", "employer")]


def test_collector_confirms_then_marks_wrong_with_history_and_audit(client, cast, case_a):
    phone = _found_phone(case_a, cast.collector_a)
    client.force_login(cast.collector_a)
    assert _status(client, case_a, "phone", phone, "confirmed").status_code == 302
    assert _status(client, case_a, "phone", phone, "wrong", note="a noodle shop answered").status_code == 302
    phone.refresh_from_db()
    assert phone.status == "wrong" and phone.status_changed_at is not None
    history = list(phone.changes.values_list("action", "from_status", "to_status"))
    assert history == [
        ("found", "", "unverified"),
        ("status", "unverified", "confirmed"),
        ("status", "confirmed", "wrong"),
    ]
    rows = AuditLog.objects.filter(action="contact_point.status", object_id=str(phone.pk))
    assert [r.changes["status"] for r in rows.order_by("id")] == ["confirmed", "wrong"]
    page = client.get(case_a.get_absolute_url()).content.decode()
    assert "a noodle shop answered" in page and "Not dialled any more." in page


def test_the_teams_supervisor_may_change_a_state_other_people_may_not(client, cast, case_a):
    address = case_a.account.borrower.addresses.get()
    client.force_login(cast.supervisor_x)
    assert _status(client, case_a, "address", address, "moved").status_code == 302
    address.refresh_from_db()
    assert address.status == "moved"
    for user, status in (
        (cast.collector_b, 404),
        (cast.supervisor_y, 404),
        (cast.collector_a2, 404),
        (cast.manager, 403),
    ):
        client.force_login(user)
        assert _status(client, case_a, "address", address, "confirmed").status_code == status, user
    address.refresh_from_db()
    assert address.status == "moved"
    # Another borrower's phone through this case's URL: no such point here.
    other = AccountFactory(branch=cast.branch_a).borrower.phones.get()
    client.force_login(cast.collector_a)
    assert _status(client, case_a, "phone", other, "wrong").status_code == 404
    assert client.get(reverse("contact-point-status", args=[case_a.pk])).status_code == 405


def test_only_allowed_transitions_change_a_state(cast, case_a):
    phone = case_a.account.borrower.phones.get()
    with pytest.raises(NotPermitted, match="only an address moves"):
        contact_point_set_status(case=case_a, actor=cast.collector_a, point=phone, status="moved")
    with pytest.raises(NotPermitted):
        contact_point_set_status(case=case_a, actor=cast.collector_a, point=phone, status="unverified")
    contact_point_set_status(case=case_a, actor=cast.collector_a, point=phone, status="wrong")
    with pytest.raises(NotPermitted):
        contact_point_set_status(case=case_a, actor=cast.collector_a, point=phone, status="wrong")
    contact_point_set_status(case=case_a, actor=cast.collector_a, point=phone, status="confirmed")
    assert BorrowerPhone.objects.get(pk=phone.pk).status == "confirmed"


def test_a_stale_state_change_is_refused(cast, case_a):
    phone = case_a.account.borrower.phones.get()
    BorrowerPhone.objects.filter(pk=phone.pk).update(status="wrong")  # someone else, meanwhile
    with pytest.raises(DoorstepError, match="changed this contact point meanwhile"):
        contact_point_set_status(case=case_a, actor=cast.collector_a, point=phone, status="confirmed")


def test_a_wrong_number_is_neither_offered_nor_dialled(client, cast, case_a):
    phone = case_a.account.borrower.phones.get()
    contact_point_set_status(case=case_a, actor=cast.collector_a, point=phone, status=ContactStatus.WRONG)
    client.force_login(cast.collector_a)
    form = client.get(reverse("contact-attempt-create", args=[case_a.pk])).content.decode()
    assert f'value="{phone.pk}"' not in form
    # Typed in by hand, it is refused with the reason.
    response = client.post(
        reverse("contact-attempt-create", args=[case_a.pk]),
        {"channel": "call", "party": "borrower", "other_number": "138-1234-5678", "result": "no_answer"},
    )
    assert response.status_code == 200
    assert "138****5678 was marked wrong" in response.content.decode()
    with pytest.raises(DoorstepError, match="not dialled any more"):
        contact_attempt_log(
            case=case_a,
            actor=cast.collector_a,
            channel="sms",
            party="borrower",
            phone_number="13812345678",
            result="no_answer",
        )
    assert not ContactAttempt.objects.exists()
    # The case page shows it struck through, with no Show/Call; the reveal no longer offers Call.
    page = client.get(case_a.get_absolute_url()).content.decode()
    assert reverse("pii-reveal", args=[case_a.account.borrower_id, phone.pii_field]) not in page
    revealed = client.post(reverse("pii-reveal", args=[case_a.account.borrower_id, phone.pii_field]))
    assert revealed.status_code == 200 and 'data-action="dial"' not in revealed.content.decode()


def test_a_moved_address_is_no_longer_a_visit_address(client, cast, case_in_stage):
    case = case_in_stage(Stage.PREPARATION)
    home = case.account.borrower.addresses.get()
    contact_point_set_status(case=case, actor=cast.collector_a, point=home, status=ContactStatus.MOVED)
    client.force_login(cast.collector_a)
    form = client.get(reverse("case-preparation", args=[case.pk])).content.decode()
    assert f'value="{home.pk}"' not in form
    response = client.post(reverse("case-preparation", args=[case.pk]), plan_data(home))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()


def test_the_borrower_file_shows_each_points_history_in_chinese(client, cast, case_a):
    phone = _found_phone(case_a, cast.collector_a, source="neighbour")
    contact_point_set_status(case=case_a, actor=cast.collector_a, point=phone, status="confirmed")
    client.force_login(cast.collector_a)
    page = client.get(case_a.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "已确认" in page and "邻居" in page and "历史" in page


def test_phone_added_by_a_collector_of_another_team_is_refused(cast, case_a):
    with pytest.raises(NotPermitted):
        _found_phone(case_a, cast.collector_b)
    assert not BorrowerPhone.objects.filter(number=NEW_NUMBER).exists()


def test_the_audit_trail_keeps_no_clear_number_or_address(cast, case_a):
    phone = _found_phone(case_a, cast.collector_a)
    found = FoundContact(kind="address", value="Secret Lane 7")
    address = contact_point_add(case=case_a, actor=cast.collector_a, found=found, origin="visit")
    contact_point_set_status(case=case_a, actor=cast.collector_a, point=address, status="moved")
    rows = AuditLog.objects.filter(action__startswith="contact_point.")
    assert rows.count() == 3
    text = " ".join(str(r.changes) for r in rows)
    assert NEW_NUMBER not in text and "139****4321" in text and "Secret Lane" not in text
    assert phone.pk and address.pk
