import uuid

import pytest
from django.test import Client
from django.urls import reverse

from collections_app.models import AuditLog, Notification, Stage
from collections_app.services.cases import case_assign, case_transition
from tests.visits.helpers import image_upload, visit_data
from visits.models import SyncConflict, Visit

pytestmark = pytest.mark.django_db
URL = reverse("visit-sync")


def _sync(client, case, **overrides):
    data = {**visit_data(**overrides), "case": str(case.pk)}
    return client.post(URL, data, HTTP_ACCEPT="application/json")


@pytest.fixture
def visit_case(planned_case):
    return planned_case()


def test_an_offline_visit_is_created_once_however_often_it_is_synced(client, cast, visit_case):
    client.force_login(cast.collector_a)
    key = str(uuid.uuid4())
    first = _sync(client, visit_case, idempotency_key=key, photos=[image_upload()])
    assert first.status_code == 201 and first.json()["status"] == "created"
    visit = Visit.objects.get()
    assert first.json()["visit"] == visit.pk and visit.photos.count() == 1
    again = _sync(client, visit_case, idempotency_key=key, photos=[image_upload()])
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate", "visit": visit.pk, "url": visit.get_absolute_url()}
    assert Visit.objects.count() == 1 and visit.photos.count() == 1
    visit_case.refresh_from_db()
    assert visit_case.stage == Stage.NEGOTIATION


def test_a_case_reassigned_meanwhile_is_a_conflict_kept_for_the_supervisor(client, cast, visit_case):
    case_assign(case=visit_case, collector=cast.collector_a2, actor=cast.supervisor_x, reason="leave")
    client.force_login(cast.collector_a)
    key = str(uuid.uuid4())
    response = _sync(client, visit_case, idempotency_key=key, notes="Borrower promised 2000.", photos=[image_upload()])
    assert response.status_code == 409
    body = response.json()
    assert body["status"] == "conflict" and body["reason"] == "reassigned" and "reassigned" in body["message"]
    conflict = SyncConflict.objects.get()
    assert str(conflict.idempotency_key) == key and conflict.collector == cast.collector_a
    assert conflict.payload["fields"]["notes"] == "Borrower promised 2000." and "case" in conflict.payload["fields"]
    assert "csrfmiddlewaretoken" not in conflict.payload["fields"]
    assert len(conflict.payload["photos"]) == 1 and len(conflict.payload["photos"][0]["sha256"]) == 64
    note = Notification.objects.get(recipient=cast.supervisor_x)
    assert note.case == visit_case and "Borrower promised 2000." in note.message and "reassigned" in note.message
    assert AuditLog.objects.filter(action="visit.sync_conflict").count() == 1
    # Sent again (the answer was lost): the same conflict, no second notification.
    assert _sync(client, visit_case, idempotency_key=key).status_code == 409
    assert SyncConflict.objects.count() == 1 and Notification.objects.count() == 1
    assert not Visit.objects.exists()


def test_a_closed_case_is_a_conflict(client, cast, visit_case):
    case_transition(case=visit_case, target=Stage.CLOSED, actor=cast.supervisor_x, close_reason="cured")
    client.force_login(cast.collector_a)
    response = _sync(client, visit_case)
    assert response.status_code == 409 and response.json()["reason"] == "closed"
    assert Notification.objects.filter(recipient=cast.supervisor_x, kind="sync_conflict").exists()


def test_a_case_no_longer_in_the_visit_stage_is_a_conflict(client, cast, visit_case):
    case_transition(case=visit_case, target=Stage.PREPARATION, actor=cast.collector_a)
    client.force_login(cast.collector_a)
    response = _sync(client, visit_case)
    assert response.status_code == 409 and response.json()["reason"] == "stage"
    assert "Preparation" in response.json()["message"]


def test_invalid_fields_answer_400_with_field_errors_and_create_nothing(client, cast, visit_case):
    client.force_login(cast.collector_a)
    response = _sync(client, visit_case, outcome="", identity_confirmed=None)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "invalid" and {"outcome", "identity_confirmed"} <= set(body["errors"])
    assert not Visit.objects.exists() and not SyncConflict.objects.exists()


def test_a_rule_refusal_is_a_400_kept_on_the_device(client, cast, visit_case):
    client.force_login(cast.collector_a)
    response = _sync(client, visit_case, checked_in_at="2026-03-09T23:30", checked_out_at="2026-03-09T23:50")
    assert response.status_code == 400 and "quiet-hours" in response.json()["message"]


def test_a_case_never_assigned_to_the_collector_is_404(client, cast, planned_case):
    other = planned_case(collector=cast.collector_a2)
    client.force_login(cast.collector_a)
    assert _sync(client, other).status_code == 404
    assert _sync(client, other, idempotency_key="not-a-uuid").status_code == 400
    assert not SyncConflict.objects.exists()


def test_sync_needs_a_csrf_token_a_collector_and_post(cast, visit_case):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.collector_a)
    assert client.post(URL, {**visit_data(), "case": visit_case.pk}).status_code == 403
    assert client.get(URL).status_code == 405
    supervisor = Client()
    supervisor.force_login(cast.supervisor_x)
    assert supervisor.post(URL, {**visit_data(), "case": visit_case.pk}).status_code == 403
    assert not Visit.objects.exists()


def test_conflict_page_is_for_its_collector_and_the_team_supervisor(client, cast, visit_case):
    case_transition(case=visit_case, target=Stage.CLOSED, actor=cast.supervisor_x, close_reason="cured")
    client.force_login(cast.collector_a)
    _sync(client, visit_case, notes="Kept for the record")
    conflict = SyncConflict.objects.get()
    url = reverse("sync-conflict-detail", args=[conflict.pk])
    assert "Kept for the record" in client.get(url).content.decode()
    for who, status in (("supervisor_x", 200), ("supervisor_y", 404), ("collector_b", 404), ("collector_a2", 404)):
        other = Client()
        other.force_login(getattr(cast, who))
        assert other.get(url).status_code == status, who
    supervisor = Client()
    supervisor.force_login(cast.supervisor_x)
    assert supervisor.post(reverse("sync-conflict-discard", args=[conflict.pk])).status_code == 403
    assert f'data-conflict="{conflict.pk}"' in supervisor.get(reverse("sync-conflict-list")).content.decode()
    response = client.post(reverse("sync-conflict-discard", args=[conflict.pk]), HTTP_ACCEPT="application/json")
    assert response.json() == {"status": "discarded", "conflict": conflict.pk}
    conflict.refresh_from_db()
    assert conflict.discarded_at is not None


def test_a_contact_found_offline_arrives_once_with_the_visit(client, cast, visit_case):
    from collections_app.models import BorrowerAddress, ContactPointChange

    client.force_login(cast.collector_a)
    key = str(uuid.uuid4())
    found = {"found_kind": "address", "found_value": "New Village 3-201", "found_source": "neighbour"}
    assert _sync(client, visit_case, idempotency_key=key, **found).status_code == 201
    assert _sync(client, visit_case, idempotency_key=key, **found).status_code == 200
    address = BorrowerAddress.objects.get(text="New Village 3-201")
    assert (address.source, address.status, address.found_by) == ("neighbour", "unverified", cast.collector_a)
    assert ContactPointChange.objects.filter(address=address).count() == 1


def test_an_offline_found_contact_with_errors_is_invalid_and_nothing_is_saved(client, cast, visit_case):
    client.force_login(cast.collector_a)
    response = _sync(client, visit_case, found_kind="phone", found_value="12")
    assert response.status_code == 400 and "found_value" in response.json()["errors"]
    assert not Visit.objects.exists()


def test_an_offline_contact_for_another_teams_case_tells_nothing(client, cast, visit_case):
    from collections_app.models import BorrowerPhone

    client.force_login(cast.collector_b)
    response = _sync(client, visit_case, found_kind="phone", found_value="13900002222")
    assert response.status_code == 404
    assert not BorrowerPhone.objects.filter(number="13900002222").exists()
