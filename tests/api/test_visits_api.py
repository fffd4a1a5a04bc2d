import datetime as dt
import uuid

import pytest
from django.urls import reverse

from collections_app.models import AuditLog, Case, CaseEvent, Stage
from tests.factories import AccountFactory, CaseFactory
from tests.visits.helpers import DAYTIME, image_upload
from visits.models import Visit

pytestmark = pytest.mark.django_db
URL = "/api/v1/visits/"


@pytest.fixture(autouse=True)
def _daytime(time_machine, settings, tmp_path):
    # Quiet hours depend on the borrower's local time; photos go to a private temporary media root.
    time_machine.move_to(DAYTIME, tick=True)
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def visit_case(case_in_stage):
    return case_in_stage(Stage.VISIT)


def payload(case, **overrides) -> dict:
    data = {
        "case": case.pk,
        "idempotency_key": str(uuid.uuid4()),
        "checked_in_at": (DAYTIME - dt.timedelta(minutes=40)).isoformat(),
        "checked_out_at": (DAYTIME - dt.timedelta(minutes=5)).isoformat(),
        "identity_confirmed": True,
        "met": "borrower",
        "outcome": "promised",
        "geo_status": "ok",
        "lat": "31.298900",
        "lng": "120.585300",
        "accuracy_m": "12.5",
        "monthly_income": "8000.00",
        "monthly_expenses": "5000",
        "overdue_reason": "income_loss",
        "attitude": "cooperative",
        "notes": "Will pay on Friday.",
    }
    data.update(overrides)
    return data


def test_collector_logs_a_visit_and_a_repeated_key_returns_it_with_200(api, cast, visit_case):
    client = api(cast.collector_a)
    data = payload(visit_case)
    response = client.post(URL, data, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["case"] == visit_case.pk and body["collector"]["username"] == "collector_a"
    assert body["monthly_income"] == "8000.00" and body["monthly_expenses"] == "5000.00"
    assert body["lat"] == "31.298900"
    visit_case.refresh_from_db()
    assert visit_case.stage == Stage.NEGOTIATION  # the outcome moved the case, as from the form
    assert AuditLog.objects.filter(action="visit.log").count() == 1

    again = client.post(URL, data, format="json")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert Visit.objects.count() == 1
    assert CaseEvent.objects.filter(case=visit_case, kind="visit").count() == 1


def test_photos_are_accepted_as_multipart_and_non_images_refused(api, cast, visit_case):
    client = api(cast.collector_a)
    data = payload(visit_case, photos=[image_upload(), image_upload("b.jpg", "JPEG", content_type="image/jpeg")])
    response = client.post(URL, data, format="multipart")
    assert response.status_code == 201, response.json()
    photos = response.json()["photos"]
    assert [p["content_type"] for p in photos] == ["image/png", "image/jpeg"]
    assert photos[0]["url"] == reverse("visit-photo", args=[photos[0]["id"]])

    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")
    refused = client.post(URL, payload(visit_case, photos=[fake]), format="multipart")
    assert refused.status_code == 409 and "photos" in refused.json()["errors"]
    assert Visit.objects.count() == 1


def test_bad_input_is_400_with_field_errors_and_records_nothing(api, cast, visit_case):
    client = api(cast.collector_a)
    bad = payload(
        visit_case,
        identity_confirmed=False,
        met="third_party",
        lat="95",
        checked_in_at=(DAYTIME + dt.timedelta(hours=2)).isoformat(),
    )
    response = client.post(URL, bad, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {"identity_confirmed", "lat"} <= set(errors)
    # Well formed, refused by the visit's rules: 409 with the same error format.
    future = client.post(URL, payload(visit_case, checked_in_at=bad["checked_in_at"]), format="json")
    assert future.status_code == 409 and "checked_in_at" in future.json()["errors"]
    third_party = client.post(URL, payload(visit_case, met="third_party"), format="json")
    assert third_party.status_code == 409
    assert {"monthly_income", "outcome"} <= set(third_party.json()["errors"])
    assert client.post(URL, {"case": "x"}, format="json").status_code == 400
    assert not Visit.objects.exists()
    assert Case.objects.get(pk=visit_case.pk).stage == Stage.VISIT


def test_service_refusal_is_a_json_409(api, cast, case_a):
    response = api(cast.collector_a).post(URL, payload(case_a), format="json")  # still in screening
    assert response.status_code == 409
    assert response.json()["code"] == "case_stage" and "visit stage" in response.json()["detail"]
    assert not Visit.objects.exists()


def test_scoping_another_collectors_case_is_404_and_managers_read_only(api, cast, visit_case):
    visit = api(cast.collector_a).post(URL, payload(visit_case), format="json").json()
    detail = f"{URL}{visit['id']}/"
    assert api(cast.collector_b).post(URL, payload(visit_case), format="json").status_code == 404
    assert api(cast.collector_b).get(detail).status_code == 404
    assert api(cast.collector_b).get(URL).json()["results"] == []
    assert api(cast.supervisor_y).get(detail).status_code == 404
    assert api(cast.supervisor_x).get(detail).status_code == 200
    manager = api(cast.manager)
    assert [v["id"] for v in manager.get(URL).json()["results"]] == [visit["id"]]
    refused = manager.post(URL, payload(visit_case), format="json")
    assert refused.status_code == 403 and refused.json()["detail"]
    assert Visit.objects.count() == 1


def test_filters_and_constant_query_count(api, cast, visit_case, django_assert_max_num_queries):
    other = CaseFactory(account=AccountFactory(branch=cast.branch_a), team=cast.team_x)
    for minutes in (50, 40, 30):
        Visit.objects.create(
            case=other,
            collector=cast.collector_a,
            checked_in_at=DAYTIME - dt.timedelta(minutes=minutes),
            outcome="not_home",
            met="",
        )
    api(cast.collector_a).post(URL, payload(visit_case), format="json")
    client = api(cast.supervisor_x)
    with django_assert_max_num_queries(6):
        assert len(client.get(URL).json()["results"]) == 4
    assert len(client.get(URL, {"case": visit_case.pk}).json()["results"]) == 1
    assert len(client.get(URL, {"outcome": "not_home"}).json()["results"]) == 3
    bad = client.get(URL, {"outcome": "moon", "visited_from": "yesterday"})
    assert bad.status_code == 400 and {"outcome", "visited_from"} <= set(bad.json()["errors"])


def test_an_implausibly_long_visit_is_refused_through_the_api(api, cast, visit_case):
    data = payload(visit_case, checked_in_at=(DAYTIME - dt.timedelta(hours=6)).isoformat())
    response = api(cast.collector_a).post(URL, data, format="json")
    assert response.status_code in (400, 409)
    assert "enter the check-out time" in response.json()["detail"]
    assert not Visit.objects.exists()


def test_a_visit_through_the_api_adds_a_found_contact(api, cast, visit_case):
    from collections_app.models import BorrowerPhone, ContactPointChange

    body = payload(visit_case, found_kind="phone", found_value="+86 139 0000 1111", found_source="employer")
    response = api(cast.collector_a).post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    phone = BorrowerPhone.objects.get(number="+8613900001111")
    assert (phone.source, phone.status, phone.found_case_id) == ("employer", "unverified", visit_case.pk)
    assert ContactPointChange.objects.get(phone=phone).origin == "visit"
    # The same key again: the first visit, and no second "found" row.
    assert api(cast.collector_a).post(URL, body, format="json").status_code == 200
    assert ContactPointChange.objects.filter(phone=phone).count() == 1


def test_a_found_contact_that_is_not_a_number_is_refused_with_409(api, cast, visit_case):
    from collections_app.models import BorrowerPhone

    body = payload(visit_case, found_kind="phone", found_value="ask the neighbour")
    response = api(cast.collector_a).post(URL, body, format="json")
    assert response.status_code == 409 and "found_value" in str(response.json())
    assert not Visit.objects.exists() and BorrowerPhone.objects.count() == 1


def test_another_teams_collector_cannot_add_a_contact_through_the_api(api, cast, visit_case):
    from collections_app.models import BorrowerAddress

    body = payload(visit_case, found_kind="address", found_value="Elsewhere Road 9")
    assert api(cast.collector_b).post(URL, body, format="json").status_code == 404
    assert api(cast.manager).post(URL, body, format="json").status_code == 403
    assert not BorrowerAddress.objects.filter(text="Elsewhere Road 9").exists()
