"""A visit's photos reach their final name only once the visit commits; a disk fault leaves no file and no row."""

import datetime as dt
import errno
import uuid

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from collections_app.models import Stage
from tests.uploads.conftest import files_under
from tests.visits.helpers import DAYTIME, image_upload, visit_data
from visits import services as visit_services
from visits.models import SyncConflict, Visit, VisitPhoto

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit_case(case_in_stage):
    return case_in_stage(Stage.VISIT)


def _form_post(client, case, photos):
    return client.post(reverse("visit-create", args=[case.pk]), {**visit_data(), "photos": photos})


def _api_post(user, case, photos):
    client = APIClient()
    client.force_authenticate(user)
    data = {
        "case": case.pk,
        "idempotency_key": str(uuid.uuid4()),
        "checked_in_at": (DAYTIME - dt.timedelta(minutes=40)).isoformat(),
        "identity_confirmed": True,
        "met": "borrower",
        "outcome": "promised",
        "geo_status": "unavailable",
        "photos": photos,
    }
    return client.post("/api/v1/visits/", data, format="multipart")


def _sync_post(client, case, photos):
    data = {**visit_data(), "case": str(case.pk), "photos": photos}
    return client.post(reverse("visit-sync"), data, HTTP_ACCEPT="application/json")


def _nothing_written(media):
    assert Visit.objects.count() == 0 and VisitPhoto.objects.count() == 0
    assert files_under(media) == []


@pytest.mark.parametrize("after", [0, 1], ids=["first-photo", "second-photo"])
def test_full_disk_during_the_form_shows_an_error_and_leaves_no_file_and_no_row(
    client, cast, visit_case, media, failing_disk, after
):
    failing_disk(errno.ENOSPC, after=after)
    client.force_login(cast.collector_a)
    response = _form_post(client, visit_case, [image_upload(), image_upload("two.png")])
    assert response.status_code == 200
    assert "storage is full" in response.content.decode()
    _nothing_written(media)
    visit_case.refresh_from_db()
    assert visit_case.stage == Stage.VISIT


def test_read_only_disk_during_the_form_says_so(client, cast, visit_case, media, failing_disk):
    failing_disk(errno.EROFS)
    client.force_login(cast.collector_a)
    response = _form_post(client, visit_case, [image_upload()])
    assert response.status_code == 200 and "storage is read-only" in response.content.decode()
    _nothing_written(media)


def test_full_disk_through_the_api_is_a_json_507_with_a_code(cast, visit_case, media, failing_disk):
    failing_disk(errno.ENOSPC, after=1)
    response = _api_post(cast.collector_a, visit_case, [image_upload(), image_upload("two.png")])
    assert response.status_code == 507
    body = response.json()
    assert body["code"] == "storage_full" and "storage is full" in body["detail"]
    _nothing_written(media)


def test_read_only_disk_through_the_api_is_a_json_503(cast, visit_case, media, failing_disk):
    failing_disk(errno.EROFS)
    response = _api_post(cast.collector_a, visit_case, [image_upload()])
    assert response.status_code == 503 and response.json()["code"] == "storage_read_only"
    _nothing_written(media)


def test_full_disk_during_offline_sync_keeps_the_item_pending_and_records_a_conflict(
    client, cast, visit_case, media, failing_disk
):
    failing_disk(errno.ENOSPC, after=1)
    client.force_login(cast.collector_a)
    response = _sync_post(client, visit_case, [image_upload(), image_upload("two.png")])
    assert response.status_code == 507
    body = response.json()
    assert body["status"] == "unavailable" and body["code"] == "storage_full"
    _nothing_written(media)
    conflict = SyncConflict.objects.get()
    assert conflict.reason == SyncConflict.Reason.STORAGE and len(conflict.payload["photos"]) == 2
    assert f"#{visit_case.pk}" in conflict.message


def test_the_photo_takes_its_name_only_when_the_visit_commits(
    client, cast, visit_case, media, django_capture_on_commit_callbacks
):
    client.force_login(cast.collector_a)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert _form_post(client, visit_case, [image_upload()]).status_code == 302
    photo = VisitPhoto.objects.get()
    staged = files_under(media)
    assert len(staged) == 1 and staged[0].startswith(".staging/") and staged[0].endswith(".png.part")
    for callback in callbacks:
        callback()
    assert files_under(media) == [photo.file.name]
    assert photo.file.name.startswith(f"visit-photos/{visit_case.pk}/")


def test_a_rollback_after_the_photo_was_written_removes_it(cast, visit_case, media, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(visit_services, "_apply_outcome", broken)
    with pytest.raises(RuntimeError):
        visit_services.visit_log(
            case=visit_case,
            actor=cast.collector_a,
            idempotency_key=uuid.uuid4(),
            checked_in_at=DAYTIME - dt.timedelta(minutes=30),
            checked_out_at=None,
            identity_confirmed=True,
            met="borrower",
            outcome="promised",
            photos=[image_upload()],
        )
    _nothing_written(media)


def test_full_disk_on_the_import_page_says_so_and_keeps_no_job(client, cast, media, failing_disk):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from collections_app.models import ImportJob

    failing_disk(errno.ENOSPC)
    client.force_login(cast.supervisor_x)
    upload = SimpleUploadedFile("accounts.csv", b"account_no\nA1\n" * 50, content_type="text/csv")
    response = client.post(reverse("import-list"), {"file": upload}, follow=True)
    assert response.status_code == 200 and "storage is full" in response.content.decode()
    assert not ImportJob.objects.exists()
