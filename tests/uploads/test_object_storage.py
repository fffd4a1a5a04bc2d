"""Media on S3-compatible object storage (MEDIA_STORAGE=s3, README "Deploying: media"), against moto's
in-process S3: staged photos reach their final key only when the visit commits, a refused visit leaves no
object, photos are served through the checked view, and imports read their file from the bucket."""

import datetime as dt
import uuid

import boto3
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from moto import mock_aws

from collections_app.importer.services import import_job_create, import_job_run
from collections_app.models import DelinquentAccount, ImportJob, Stage
from collections_app.services.uploads import STAGING_DIR, orphans_remove
from tests.imports.conftest import csv_bytes, row
from tests.visits.helpers import DAYTIME, image_upload, visit_data
from visits import services as visit_services
from visits.models import Visit, VisitPhoto

pytestmark = pytest.mark.django_db
BUCKET = "doorstep-media"


@pytest.fixture
def bucket(settings, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {"bucket_name": BUCKET, "region_name": "us-east-1", "default_acl": "private"},
            },
        }

        def keys() -> list[str]:
            return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))

        yield keys


def _post_visit(client, case, **overrides):
    data = {**visit_data(**overrides), "photos": [image_upload("door.png")]}
    return client.post(reverse("visit-create", args=[case.pk]), data)


def test_the_media_storage_is_the_bucket(bucket):
    assert default_storage.__class__.__name__ == "S3Storage"


def test_a_visit_photo_lands_under_its_final_key_once_the_visit_commits_and_is_served_by_the_checked_view(
    client, cast, case_in_stage, bucket, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(DAYTIME, tick=True)
    case = case_in_stage(Stage.VISIT)
    client.force_login(cast.collector_a)
    with django_capture_on_commit_callbacks(execute=False) as commit:
        assert _post_visit(client, case).status_code == 302
    photo = VisitPhoto.objects.get(visit__case=case)
    assert [key.startswith(f"{STAGING_DIR}/") for key in bucket()] == [True]  # staged until the commit
    for callback in commit:
        callback()
    assert bucket() == [photo.file.name]
    assert not any(key.startswith(STAGING_DIR) for key in bucket())
    served = client.get(reverse("visit-photo", args=[photo.pk]))
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == image_upload("door.png").read()
    client.force_login(cast.collector_b)  # another team's collector
    assert client.get(reverse("visit-photo", args=[photo.pk])).status_code == 404


def test_a_visit_that_fails_after_its_photo_was_staged_leaves_no_object_in_the_bucket(
    cast, case_in_stage, bucket, time_machine, monkeypatch
):
    time_machine.move_to(DAYTIME, tick=True)
    case = case_in_stage(Stage.VISIT)

    def audit_fails(**kwargs):
        assert [key.startswith(f"{STAGING_DIR}/") for key in bucket()] == [True]  # the photo is staged
        raise RuntimeError("the database went away")

    monkeypatch.setattr(visit_services, "audit_log", audit_fails)
    with pytest.raises(RuntimeError):
        visit_services.visit_log(
            case=case,
            actor=cast.collector_a,
            idempotency_key=uuid.uuid4(),
            checked_in_at=DAYTIME - dt.timedelta(minutes=30),
            checked_out_at=DAYTIME - dt.timedelta(minutes=5),
            identity_confirmed=True,
            met="borrower",
            outcome="other",
            photos=[image_upload("door.png")],
        )
    assert Visit.objects.count() == 0 and VisitPhoto.objects.count() == 0
    assert bucket() == []


def test_an_import_reads_its_file_from_the_bucket(cast, bucket):
    rows = [row(f"S3{n:04d}") for n in range(3)]
    job = import_job_create(actor=cast.supervisor_x, upload=SimpleUploadedFile("accounts.csv", csv_bytes(rows)))
    assert job.file.name in bucket()
    import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.message
    assert DelinquentAccount.objects.filter(account_no__startswith="S3").count() == 3


def test_the_orphan_sweep_removes_an_old_staged_object_and_keeps_a_fresh_one(bucket):
    default_storage.save(f"{STAGING_DIR}/old.png.part", SimpleUploadedFile("x", b"stale"))
    modified = default_storage.get_modified_time(f"{STAGING_DIR}/old.png.part")
    assert orphans_remove(now=modified + dt.timedelta(days=1, minutes=1)) == [f"{STAGING_DIR}/old.png.part"]
    default_storage.save(f"{STAGING_DIR}/fresh.png.part", SimpleUploadedFile("y", b"fresh"))
    assert orphans_remove(now=modified + dt.timedelta(hours=1)) == []
    assert bucket() == [f"{STAGING_DIR}/fresh.png.part"]
