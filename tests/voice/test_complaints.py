import datetime as dt

import pytest
from django.urls import reverse

from collections_app.exceptions import NotPermitted, TransitionNotAllowed
from collections_app.models import AuditLog, CaseEvent, Notification, Stage
from tests.factories import AccountFactory
from tests.visits.helpers import visit_data
from visits.models import Visit
from voice.models import Complaint
from voice.services import complaint_acknowledge, complaint_log, complaint_resolve, complaints_escalate_overdue
from voice.tasks import escalate_overdue_complaints

pytestmark = pytest.mark.django_db


def _log(case, actor, **overrides):
    values = {"category": Complaint.Category.CONTACT, "text": "Called me at midnight."}
    values.update(overrides)
    return complaint_log(case=case, actor=actor, **values)


def test_logging_a_complaint_sets_deadlines_owner_timeline_audit_and_notifies_the_supervisor(cast, case_a, settings):
    settings.COMPLAINT_ACK_DAYS, settings.COMPLAINT_RESOLVE_DAYS = 2, 10
    complaint = _log(case_a, cast.collector_a)
    assert complaint.owner == cast.supervisor_x
    assert complaint.ack_due - complaint.created_at == pytest.approx(dt.timedelta(days=2), abs=dt.timedelta(seconds=5))
    assert (complaint.resolve_due - complaint.created_at).days in (9, 10)
    event = CaseEvent.objects.get(case=case_a, kind="complaint")
    assert event.payload == {"action": "logged", "complaint": complaint.pk, "category": "contact", "source": "staff"}
    assert AuditLog.objects.filter(action="complaint.log", object_id=str(complaint.pk)).exists()
    assert Notification.objects.filter(recipient=cast.supervisor_x, kind="complaint", case=case_a).count() == 1


def test_a_complaint_needs_a_category_and_a_text(cast, case_a):
    with pytest.raises(TransitionNotAllowed):
        _log(case_a, cast.collector_a, category="rude")
    with pytest.raises(TransitionNotAllowed):
        _log(case_a, cast.collector_a, text="  ")
    assert not Complaint.objects.exists()


def test_only_the_owner_acknowledges_and_resolves(cast, case_a):
    complaint = _log(case_a, cast.collector_a)
    for outsider in (cast.collector_a, cast.supervisor_y, cast.manager):
        with pytest.raises(NotPermitted):
            complaint_acknowledge(complaint=complaint, actor=outsider)
        with pytest.raises(NotPermitted):
            complaint_resolve(complaint=complaint, actor=outsider, note="ok")
    complaint = complaint_acknowledge(complaint=complaint, actor=cast.supervisor_x)
    assert complaint.acknowledged_at is not None
    with pytest.raises(TransitionNotAllowed):
        complaint_acknowledge(complaint=complaint, actor=cast.supervisor_x)
    with pytest.raises(TransitionNotAllowed):
        complaint_resolve(complaint=complaint, actor=cast.supervisor_x, note=" ")
    complaint = complaint_resolve(
        complaint=complaint, actor=cast.supervisor_x, note="Apologised; calls moved to daytime."
    )
    assert complaint.resolved_at is not None and complaint.resolution_note.startswith("Apologised")
    actions = list(CaseEvent.objects.filter(kind="complaint").values_list("payload__action", flat=True))
    assert sorted(actions) == ["acknowledged", "logged", "resolved"]
    assert AuditLog.objects.filter(action="complaint.resolve").count() == 1


def test_a_conduct_complaint_pauses_the_named_collectors_visits_until_resolved(client, cast, case_in_stage):
    case = case_in_stage(Stage.VISIT)
    complaint = _log(case, cast.supervisor_x, category=Complaint.Category.CONDUCT, collector_named=cast.collector_a)
    client.force_login(cast.collector_a)
    response = client.post(reverse("visit-create", args=[case.pk]), visit_data())
    assert "field visits are paused" in response.content.decode()
    assert not Visit.objects.exists()
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.REFUSED, payload__rule="conduct_complaint_hold")
    complaint_resolve(complaint=complaint, actor=cast.supervisor_x, note="Reviewed the recording: no misconduct.")
    assert client.post(reverse("visit-create", args=[case.pk]), visit_data()).status_code == 302
    assert Visit.objects.count() == 1


def test_other_complaints_do_not_pause_visits(client, cast, case_in_stage):
    case = case_in_stage(Stage.VISIT)
    _log(case, cast.supervisor_x, category=Complaint.Category.AMOUNT, collector_named=cast.collector_a)
    _log(case, cast.supervisor_x, category=Complaint.Category.CONDUCT, collector_named=cast.collector_a2)
    client.force_login(cast.collector_a)
    assert client.post(reverse("visit-create", args=[case.pk]), visit_data()).status_code == 302


def test_overdue_complaints_escalate_to_the_managers_once(cast, case_a, time_machine):
    late_ack = _log(case_a, cast.collector_a)
    on_time = _log(case_a, cast.collector_a)
    complaint_acknowledge(complaint=on_time, actor=cast.supervisor_x)
    assert complaints_escalate_overdue() == 0
    time_machine.shift(dt.timedelta(days=2))
    assert escalate_overdue_complaints() == 1
    assert escalate_overdue_complaints() == 0
    notes = Notification.objects.filter(recipient=cast.manager, kind="complaint")
    assert [n.case_id for n in notes] == [case_a.pk]
    assert Complaint.objects.get(pk=late_ack.pk).escalated_at is not None
    time_machine.shift(dt.timedelta(days=14))
    assert escalate_overdue_complaints() == 1  # now past its resolution deadline too
    complaint_resolve(complaint=late_ack, actor=cast.supervisor_x, note="Done")
    assert Notification.objects.filter(recipient=cast.manager, kind="complaint").count() == 2


def test_staff_log_a_complaint_from_the_case_page(client, cast, case_a):
    client.force_login(cast.collector_a)
    page = client.get(case_a.get_absolute_url()).content.decode()
    assert reverse("complaint-create", args=[case_a.pk]) in page
    response = client.post(
        reverse("complaint-create", args=[case_a.pk]),
        {"category": "conduct", "text": "Shouted at my mother.", "collector_named": cast.collector_a2.pk},
    )
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.collector_named == cast.collector_a2 and complaint.logged_by == cast.collector_a
    assert f"Complaint #{complaint.pk}" in client.get(case_a.get_absolute_url()).content.decode()


def test_complaint_list_is_scoped_to_the_cases_the_user_sees(client, cast, case_a):
    from collections_app.services.cases import case_open

    other = case_open(account=AccountFactory(branch=cast.branch_b), actor=cast.supervisor_y, team=cast.team_y)
    mine, theirs = _log(case_a, cast.collector_a), _log(other, cast.supervisor_y)
    client.force_login(cast.supervisor_x)
    page = client.get(reverse("complaint-list")).content.decode()
    assert mine.get_absolute_url() in page and theirs.get_absolute_url() not in page
    assert client.get(theirs.get_absolute_url()).status_code == 404
    client.force_login(cast.manager)
    page = client.get(reverse("complaint-list")).content.decode()
    assert mine.get_absolute_url() in page and theirs.get_absolute_url() in page
    client.force_login(cast.collector_a)
    assert client.get(reverse("complaint-list")).status_code == 403


def test_supervisor_acknowledges_and_resolves_through_the_pages(client, cast, case_a):
    complaint = _log(case_a, cast.collector_a)
    client.force_login(cast.supervisor_x)
    assert client.post(reverse("complaint-acknowledge", args=[complaint.pk])).status_code == 302
    response = client.post(complaint.get_absolute_url(), {"note": ""})
    assert response.status_code == 200
    assert client.post(complaint.get_absolute_url(), {"note": "Refunded the fee."}).status_code == 302
    complaint.refresh_from_db()
    assert complaint.acknowledged_at and complaint.resolved_at and complaint.resolution_note == "Refunded the fee."
    assert (
        client.get(reverse("complaint-list") + "?status=resolved").content.decode().count(complaint.get_absolute_url())
        == 1
    )


def test_complaint_list_query_count_does_not_grow(client, cast, case_a, django_assert_max_num_queries):
    for _ in range(5):
        _log(case_a, cast.collector_a)
    client.force_login(cast.manager)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("complaint-list") + "?status=all").status_code == 200


def test_complaint_list_counts_open_overdue_and_resolved(client, cast, case_a, time_machine):
    late, done = _log(case_a, cast.collector_a), _log(case_a, cast.collector_a)
    complaint_resolve(complaint=done, actor=cast.supervisor_x, note="Done")
    time_machine.shift(dt.timedelta(days=2))
    _log(case_a, cast.collector_a)
    client.force_login(cast.supervisor_x)
    page = client.get(reverse("complaint-list")).content.decode()
    assert 'js-count-open">2<' in page and 'js-count-overdue">1<' in page and 'js-count-resolved">1<' in page
    assert late.get_absolute_url() in page
