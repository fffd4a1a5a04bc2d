"""The daily feed through the API: upload a file, poll the job, page through its row errors as JSON."""

import errno

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from collections_app.models import DelinquentAccount, ImportJob
from credentials.services import token_pair_obtain
from tests.imports.conftest import csv_bytes, row

pytestmark = pytest.mark.django_db
URL = "/api/v1/imports/"


def _client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_obtain(user=user).access}")
    return client


def _file(rows, name="accounts.csv"):
    return SimpleUploadedFile(name, csv_bytes(rows), content_type="text/csv")


def _bad_rows(count):
    return [row(f"B{i:04d}", overdue_amount="lots") for i in range(count)]


def test_a_supervisor_uploads_a_file_polls_its_job_and_pages_through_row_errors(cast):
    client = _client(cast.supervisor_x)
    rows = [row("A0001"), row("A0002"), *_bad_rows(5)]
    created = client.post(URL, {"file": _file(rows)}, format="multipart")
    assert created.status_code == 201, created.json()
    job = created.json()
    assert job["status"] == "done" and job["total_rows"] == 7 and job["created_count"] == 2
    assert job["error_count"] == 5 and job["progress_percent"] == 100
    assert DelinquentAccount.objects.filter(account_no__in=["A0001", "A0002"]).count() == 2
    polled = client.get(f"{URL}{job['id']}/")
    assert polled.status_code == 200 and polled.json()["status"] == "done"
    first = client.get(job["errors_url"], {"page_size": 2})
    assert first.status_code == 200
    body = first.json()
    assert body["count"] == 5 and len(body["results"]) == 2 and body["previous"] is None
    first_error = body["results"][0]
    assert (first_error["row"], first_error["column"], first_error["value"]) == (4, "overdue_amount", "lots")
    assert first_error["reason"]
    last = client.get(job["errors_url"], {"page": 3, "page_size": 2}).json()
    assert len(last["results"]) == 1 and last["next"] is None and last["previous"]
    assert client.get(job["errors_url"], {"page": "0"}).status_code == 400


def test_a_large_file_is_queued_for_the_worker_with_202(cast, settings):
    settings.DOORSTEP_IMPORT_INLINE_MAX_BYTES = 10
    response = _client(cast.supervisor_x).post(URL, {"file": _file([row("A0001")])}, format="multipart")
    assert response.status_code == 202 and response.json()["status"] == "queued"


def test_jobs_are_scoped_and_collectors_are_refused(cast):
    job = _client(cast.supervisor_x).post(URL, {"file": _file([row("A0001")])}, format="multipart").json()
    assert _client(cast.supervisor_y).get(f"{URL}{job['id']}/").status_code == 404
    assert _client(cast.supervisor_y).get(f"{URL}{job['id']}/errors/").status_code == 404
    assert _client(cast.admin).get(f"{URL}{job['id']}/").status_code == 200
    assert [j["id"] for j in _client(cast.supervisor_x).get(URL).json()["results"]] == [job["id"]]
    collector = _client(cast.collector_a)
    assert collector.get(URL).status_code == 403
    assert collector.post(URL, {"file": _file([row("A0009")])}, format="multipart").status_code == 403
    assert APIClient().get(URL).status_code == 401


def test_a_wrong_file_type_is_a_json_409(cast):
    """A well-formed upload of a file the importer cannot read is refused (409), like every rule refusal."""
    response = _client(cast.supervisor_x).post(URL, {"file": _file([row()], name="accounts.txt")}, format="multipart")
    assert response.status_code == 409 and "file" in response.json()["errors"]
    assert not ImportJob.objects.exists()


def test_a_full_disk_on_upload_is_a_json_507_and_no_job(cast, monkeypatch):
    def full(self, name, content):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(FileSystemStorage, "_save", full)
    response = _client(cast.supervisor_x).post(URL, {"file": _file([row()])}, format="multipart")
    assert response.status_code == 507 and response.json()["code"] == "storage_full"
    assert not ImportJob.objects.exists()
