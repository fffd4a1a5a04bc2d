import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from collections_app.importer.tasks import requeue_queued_imports
from collections_app.models import DelinquentAccount, ImportJob
from tests.imports.conftest import csv_bytes, row

pytestmark = pytest.mark.django_db


def upload(rows, name="accounts.csv"):
    return SimpleUploadedFile(name, csv_bytes(rows), content_type="text/csv")


@pytest.mark.parametrize("who", ["collector_a", "manager"])
def test_only_supervisors_and_admins_may_import(client, cast, who):
    client.force_login(getattr(cast, who))
    assert client.get(reverse("import-list")).status_code == 403
    assert client.post(reverse("import-list"), {"file": upload([row()])}).status_code == 403


def test_wrong_method_is_405(client, cast):
    client.force_login(cast.supervisor_x)
    assert client.put(reverse("import-list")).status_code == 405
    assert client.post(reverse("import-progress", args=[1])).status_code == 405


def test_supervisor_page_has_no_create_branches_option_admin_has(client, cast):
    client.force_login(cast.supervisor_x)
    assert b"create_branches" not in client.get(reverse("import-list")).content
    client.force_login(cast.admin)
    assert b"create_branches" in client.get(reverse("import-list")).content


def test_small_upload_imports_in_the_request_and_offers_the_report(client, cast):
    client.force_login(cast.supervisor_x)
    response = client.post(
        reverse("import-list"), {"file": upload([row("A1"), row("B1", branch_code="WX01")])}, follow=True
    )
    assert response.status_code == 200
    job = ImportJob.objects.get()
    assert (job.status, job.created_by, job.created_count, job.error_count) == ("done", cast.supervisor_x, 1, 1)
    assert list(DelinquentAccount.objects.values_list("account_no", flat=True)) == ["A1"]
    page = response.content.decode()
    assert reverse("import-report", args=[job.pk]) in page
    assert 'hx-trigger="every 2s"' not in page
    report = client.get(reverse("import-report", args=[job.pk]))
    assert report["Content-Disposition"].startswith("attachment")
    assert "branch not yours" in b"".join(report.streaming_content).decode("utf-8-sig")


def test_upload_refuses_other_file_types(client, cast):
    client.force_login(cast.supervisor_x)
    response = client.post(reverse("import-list"), {"file": SimpleUploadedFile("x.pdf", b"%PDF")})
    assert response.status_code == 200
    assert not ImportJob.objects.exists()
    assert response.context["form"].errors["file"]


def test_large_upload_is_queued_and_polled_until_the_worker_ran_it(
    client, cast, settings, django_capture_on_commit_callbacks, celery_not_eager
):

    settings.DOORSTEP_IMPORT_INLINE_MAX_BYTES = 0
    client.force_login(cast.supervisor_x)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("import-list"), {"file": upload([row("A1")])})
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.QUEUED and len(callbacks) == 1
    fragment = client.get(reverse("import-progress", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in fragment and "Waiting for the worker" in fragment
    # The worker's side of the message (the task body runs the claimed job).
    from collections_app.importer.tasks import run_import

    run_import(job.pk)
    run_import(job.pk)  # a second delivery finds the job claimed and does nothing
    job.refresh_from_db()
    assert (job.status, job.created_count) == ("done", 1)
    fragment = client.get(reverse("import-progress", args=[job.pk])).content.decode()
    assert "every 2s" not in fragment and "100%" in fragment


def test_another_supervisors_job_is_404(client, cast):
    client.force_login(cast.supervisor_x)
    client.post(reverse("import-list"), {"file": upload([row("A1")])})
    job = ImportJob.objects.get()
    client.force_login(cast.supervisor_y)
    assert client.get(reverse("import-progress", args=[job.pk])).status_code == 404
    assert client.get(reverse("import-report", args=[job.pk])).status_code == 404
    assert client.get(reverse("import-report", args=[999])).status_code == 404
    client.force_login(cast.admin)
    assert client.get(reverse("import-report", args=[job.pk])).status_code == 200


def test_list_page_query_count_is_constant(client, cast, django_assert_max_num_queries):
    client.force_login(cast.supervisor_x)
    for i in range(3):
        client.post(reverse("import-list"), {"file": upload([row(f"A{i}")])})
    with django_assert_max_num_queries(12):
        assert client.get(reverse("import-list")).status_code == 200


def test_sweep_requeues_only_jobs_queued_for_over_a_minute(client, cast, settings):
    import datetime as dt

    from django.utils import timezone

    settings.DOORSTEP_IMPORT_INLINE_MAX_BYTES = 0
    client.force_login(cast.supervisor_x)
    client.post(reverse("import-list"), {"file": upload([row("A1")])})
    client.post(reverse("import-list"), {"file": upload([row("A2")])})
    old, _new = ImportJob.objects.order_by("id")
    ImportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))
    assert requeue_queued_imports() == 1
