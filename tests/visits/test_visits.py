import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from collections_app.models import AuditLog, CaseEvent, Stage
from tests.visits.helpers import DAYTIME, QUIET, image_upload, local_input, visit_data
from visits.models import Visit, VisitPhoto, VisitPlan
from visits.selectors import latest_financials

pytestmark = pytest.mark.django_db


def _post(client, case, files=None, **overrides):
    data = visit_data(**overrides)
    if files:
        data["photos"] = files
    return client.post(reverse("visit-create", args=[case.pk]), data)


def _files(media_root):
    return [p for p in media_root.rglob("*") if p.is_file()] if media_root.exists() else []


@pytest.fixture
def visit_case(case_in_stage):
    return case_in_stage(Stage.VISIT)


def test_visit_form_carries_idempotency_key_draft_key_and_decimal_inputs(client, cast, visit_case):
    client.force_login(cast.collector_a)
    response = client.get(reverse("visit-create", args=[visit_case.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert f'data-draft-key="visit-{visit_case.pk}"' in page
    assert 'name="idempotency_key"' in page and 'type="hidden"' in page
    assert page.count('inputmode="decimal"') == 3
    assert "js/visit.js" in page and "<script>" not in page


def test_collector_logs_a_visit_with_a_photo_and_the_case_moves_to_negotiation(
    client, cast, visit_case, _private_media, django_capture_on_commit_callbacks
):
    client.force_login(cast.collector_a)
    photo = image_upload()
    content = photo.read()
    photo.seek(0)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, visit_case, files=[photo])
    visit = Visit.objects.get()
    assert response.status_code == 302 and response.url == visit.get_absolute_url()
    assert (visit.geo_status, visit.lat, visit.lng) == ("ok", Decimal("31.298900"), Decimal("120.585300"))
    assert visit.monthly_income == Decimal("8000.00") and visit.other_debt_payments == Decimal("1200.50")
    assert visit.checked_out_at > visit.checked_in_at
    stored = visit.photos.get()
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert stored.content_type == "image/png" and stored.file.name.startswith(f"visit-photos/{visit_case.pk}/")
    assert (_private_media / stored.file.name).read_bytes() == content
    visit_case.refresh_from_db()
    assert visit_case.stage == Stage.NEGOTIATION and visit_case.next_action
    kinds = set(CaseEvent.objects.filter(case=visit_case).values_list("kind", flat=True))
    assert {CaseEvent.Kind.VISIT, CaseEvent.Kind.TRANSITION} <= kinds
    assert AuditLog.objects.filter(action="visit.log", object_id=str(visit.pk)).exists()
    visit_case.account.refresh_from_db()
    assert visit_case.account.last_contact_at == visit.checked_in_at
    assert latest_financials(visit_case) == {
        "monthly_income": Decimal("8000.00"),
        "monthly_expenses": Decimal("5000.00"),
        "other_debt_payments": Decimal("1200.50"),
        "visit_id": visit.pk,
        "visited_at": visit.checked_in_at,
    }
    page = client.get(visit.get_absolute_url()).content.decode()
    assert reverse("visit-photo", args=[stored.pk]) in page


@pytest.mark.parametrize("outcome", ["not_home", "moved", "wrong_address", "refused"])
def test_unsuccessful_outcomes_send_the_case_back_to_preparation_with_a_revisit(client, cast, visit_case, outcome):
    VisitPlan.objects.filter(case=visit_case).update(planned_at=DAYTIME - dt.timedelta(hours=1))
    client.force_login(cast.collector_a)
    extra = {"met": "family"} if outcome != "refused" else {}
    for field in ("monthly_income", "monthly_expenses", "other_debt_payments"):
        extra[field] = ""
    assert _post(client, visit_case, outcome=outcome, **extra).status_code == 302
    visit_case.refresh_from_db()
    assert visit_case.stage == Stage.PREPARATION
    assert "revisit" in visit_case.next_action.lower()
    assert visit_case.next_action_due > DAYTIME
    assert VisitPlan.objects.get(case=visit_case).planned_at is None


def test_other_outcome_keeps_the_case_in_visit(client, cast, visit_case):
    client.force_login(cast.collector_a)
    _post(client, visit_case, outcome="other")
    visit_case.refresh_from_db()
    assert visit_case.stage == Stage.VISIT


def test_double_submit_creates_one_visit(client, cast, visit_case):
    client.force_login(cast.collector_a)
    data = visit_data()
    url = reverse("visit-create", args=[visit_case.pk])
    first = client.post(url, {**data, "photos": [image_upload()]})
    second = client.post(url, {**data, "photos": [image_upload()]})
    assert first.status_code == second.status_code == 302
    assert first.url == second.url
    assert Visit.objects.count() == 1 and VisitPhoto.objects.count() == 1
    assert CaseEvent.objects.filter(case=visit_case, kind=CaseEvent.Kind.VISIT).count() == 1


def test_visit_needs_the_case_in_visit_stage(client, cast, case_in_stage):
    case = case_in_stage(Stage.PREPARATION)
    client.force_login(cast.collector_a)
    response = _post(client, case)
    assert response.status_code == 200
    assert "visit stage" in response.content.decode()
    assert not Visit.objects.exists()


def test_missing_identity_confirmation_is_refused(client, cast, visit_case):
    client.force_login(cast.collector_a)
    response = _post(client, visit_case, identity_confirmed=None)
    assert "identity_confirmed" in response.context["form"].errors
    assert not Visit.objects.exists()


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"lat": "95.0"}, "lat"),
        ({"lng": "-181"}, "lng"),
        ({"geo_status": "ok", "lat": ""}, "geo_status"),
        ({"checked_in_at": local_input(DAYTIME + dt.timedelta(hours=1))}, "checked_in_at"),
        ({"checked_out_at": local_input(DAYTIME + dt.timedelta(hours=1))}, "checked_out_at"),
        ({"checked_out_at": local_input(DAYTIME - dt.timedelta(hours=2))}, "checked_out_at"),
        ({"monthly_income": "-5"}, "monthly_income"),
        ({"met": "third_party", "outcome": "other"}, "monthly_income"),
        ({"met": "third_party", "outcome": "promised", "monthly_income": "", "monthly_expenses": ""}, "outcome"),
    ],
)
def test_invalid_visit_input_is_a_form_error_and_nothing_is_saved(
    client, cast, visit_case, overrides, field, _private_media
):
    client.force_login(cast.collector_a)
    response = _post(client, visit_case, files=[image_upload()], **overrides)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    # Nothing recorded; the chosen photo is only held for the returned form (it shows it attached).
    assert not Visit.objects.exists()
    assert [p.parent.name for p in _files(_private_media)] == ["held"]
    assert len(response.context["form"].fields["kept_photos"].choices) == 1


def test_wrong_file_type_is_refused(client, cast, visit_case, _private_media):
    client.force_login(cast.collector_a)
    fake = SimpleUploadedFile("evidence.jpg", b"%PDF-1.4 not a photo", content_type="image/jpeg")
    response = _post(client, visit_case, files=[fake])
    assert "not a JPEG, PNG or WebP" in " ".join(response.context["form"].errors["photos"])
    gif = image_upload("anim.gif", fmt="GIF", content_type="image/gif")
    response = _post(client, visit_case, files=[gif])
    assert "only JPEG, PNG or WebP" in " ".join(response.context["form"].errors["photos"])
    assert not Visit.objects.exists() and not _files(_private_media)


def test_oversized_photo_is_refused(client, cast, visit_case, settings, _private_media):
    settings.DOORSTEP_VISIT_PHOTO_MAX_BYTES = 2048
    client.force_login(cast.collector_a)
    big = image_upload(size=(64, 64), fmt="PNG", noise=True)
    assert big.size > 2048
    response = _post(client, visit_case, files=[big])
    assert "at most" in " ".join(response.context["form"].errors["photos"])
    assert not Visit.objects.exists() and not _files(_private_media)


def test_jpeg_and_webp_are_accepted(client, cast, visit_case):
    client.force_login(cast.collector_a)
    files = [image_upload("a.jpg", fmt="JPEG", content_type="image/jpeg"), image_upload("b.webp", fmt="WEBP")]
    assert _post(client, visit_case, files=files).status_code == 302
    assert sorted(VisitPhoto.objects.values_list("content_type", flat=True)) == ["image/jpeg", "image/webp"]


def test_third_party_visit_records_no_debt_details(client, cast, visit_case):
    client.force_login(cast.collector_a)
    empty = dict.fromkeys(("monthly_income", "monthly_expenses", "other_debt_payments", "overdue_reason"), "")
    response = _post(client, visit_case, met="third_party", outcome="not_home", overdue_reason_text="", **empty)
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert visit.monthly_income is None and visit.overdue_reason == ""
    assert latest_financials(visit_case) is None
    assert "Only a third party was met" in client.get(visit.get_absolute_url()).content.decode()


def test_denied_geolocation_is_recorded_as_a_status(client, cast, visit_case):
    client.force_login(cast.collector_a)
    assert _post(client, visit_case, geo_status="denied", lat="", lng="", accuracy_m="").status_code == 302
    visit = Visit.objects.get()
    assert visit.geo_status == "denied" and visit.lat is None


def test_visit_in_quiet_hours_is_refused_without_consent(client, cast, visit_case, time_machine):
    time_machine.move_to(QUIET, tick=True)
    client.force_login(cast.collector_a)
    checked_in = local_input(QUIET - dt.timedelta(minutes=10))
    response = _post(client, visit_case, checked_in_at=checked_in, checked_out_at="")
    assert "quiet-hours rule" in response.content.decode()
    assert not Visit.objects.exists()
    VisitPlan.objects.filter(case=visit_case).update(consent_outside_hours=True)
    assert _post(client, visit_case, checked_in_at=checked_in, checked_out_at="").status_code == 302


def test_visit_pages_by_role(client, cast, visit_case):
    url = reverse("visit-create", args=[visit_case.pk])
    client.force_login(cast.manager)
    assert client.get(url).status_code == 403
    for user in (cast.collector_b, cast.supervisor_y, cast.collector_a2):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert _post(client, visit_case).status_code == 404
    client.force_login(cast.supervisor_x)
    assert _post(client, visit_case).status_code == 302
    assert Visit.objects.get().collector == cast.supervisor_x


def test_photo_is_served_only_to_users_who_can_see_the_case(
    client, cast, visit_case, django_capture_on_commit_callbacks
):
    client.force_login(cast.collector_a)
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, visit_case, files=[image_upload()])
    photo = VisitPhoto.objects.get()
    url = reverse("visit-photo", args=[photo.pk])
    visit_url = photo.visit.get_absolute_url()
    for user in (cast.collector_a, cast.supervisor_x, cast.manager):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "image/png"
        assert b"".join(response.streaming_content).startswith(b"\x89PNG")
        assert client.get(visit_url).status_code == 200
    for user in (cast.collector_b, cast.supervisor_y, cast.collector_a2):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.get(visit_url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302
    client.force_login(cast.collector_a)
    assert client.post(url).status_code == 405
    assert client.get(reverse("visit-photo", args=[photo.pk + 100])).status_code == 404


def test_a_back_dated_visit_left_open_is_refused_with_its_length(client, cast, visit_case, time_machine):
    """A check-in at 10:30 and no check-out at 21:16 would record a 10 h 46 min visit."""
    time_machine.move_to(DAYTIME + dt.timedelta(hours=10, minutes=46), tick=False)
    client.force_login(cast.collector_a)
    response = _post(client, visit_case, checked_in_at=local_input(DAYTIME), checked_out_at="")
    assert response.status_code == 200
    assert "The visit would last 10 h 46 min (at most 240 min): enter the check-out time." in response.content.decode()
    assert not Visit.objects.exists()
    entered = local_input(DAYTIME + dt.timedelta(minutes=50))
    response = _post(client, visit_case, checked_in_at=local_input(DAYTIME), checked_out_at=entered)
    assert response.status_code == 302 and Visit.objects.count() == 1


def test_the_visit_length_limit_is_a_setting(client, cast, visit_case, settings):
    settings.DOORSTEP_VISIT_MAX_MINUTES = 20  # the default data's visit lasts 35 minutes
    client.force_login(cast.collector_a)
    assert "at most 20 min" in _post(client, visit_case).content.decode()
    assert not Visit.objects.exists()
