"""The account import page: upload, the user's jobs with live progress, the error report."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from collections_app.exceptions import DoorstepError
from collections_app.forms_imports import ImportUploadForm
from collections_app.importer.rows import COLUMNS, REQUIRED_COLUMNS
from collections_app.importer.services import import_job_create, import_job_run, inline_max_bytes, may_import
from collections_app.importer.stalled import MAX_ATTEMPTS
from collections_app.importer.tasks import import_job_enqueue
from collections_app.models import ImportJob, Role
from collections_app.services.uploads import storage_error

LIST_LIMIT = 30


def _require_importer(request) -> None:
    if not may_import(request.user):
        raise PermissionDenied


def _jobs(user):
    jobs = ImportJob.objects.select_related("created_by")
    if not (user.role == Role.ADMIN or user.is_superuser):
        jobs = jobs.filter(created_by=user)
    return jobs


@require_http_methods(["GET", "POST"])
def import_list(request):
    _require_importer(request)
    form = ImportUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = import_job_create(
                actor=request.user,
                upload=data["file"],
                as_of=data.get("as_of"),
                create_branches=data.get("create_branches", False),
            )
        except DoorstepError as exc:
            messages.error(request, exc.message)
        except OSError as exc:  # a full or read-only disk: the job's row rolled back with the write
            messages.error(request, storage_error(exc).message)
        else:
            _start(request, job, data["file"].size)
            return redirect("import-list")
    context = {
        "form": form,
        "jobs": _jobs(request.user)[:LIST_LIMIT],
        "columns": COLUMNS,
        "required_columns": REQUIRED_COLUMNS,
        "max_attempts": MAX_ATTEMPTS,
    }
    return render(request, "imports/import_list.html", context)


def _start(request, job: ImportJob, size: int) -> None:
    if size <= inline_max_bytes():
        job = import_job_run(job_id=job.pk) or job
        if job.status == ImportJob.Status.FAILED:
            messages.error(
                request, _("Import of %(file)s failed: %(message)s") % {"file": job.filename, "message": job.message}
            )
        else:
            messages.success(request, _("Import of %(file)s finished.") % {"file": job.filename})
    elif import_job_enqueue(job):
        messages.info(request, _("Import of %(file)s is queued; progress shows below.") % {"file": job.filename})
    else:
        messages.warning(
            request,
            _("The task queue cannot be reached. %(file)s stays queued and starts when the queue is back.")
            % {"file": job.filename},
        )


@require_GET
def import_progress(request, pk: int):
    _require_importer(request)
    job = get_object_or_404(_jobs(request.user), pk=pk)
    return render(request, "imports/_job_row.html", {"job": job, "max_attempts": MAX_ATTEMPTS})


@require_GET
def import_report(request, pk: int):
    _require_importer(request)
    job = get_object_or_404(_jobs(request.user), pk=pk)
    if not job.report:
        raise Http404
    return FileResponse(job.report.open("rb"), as_attachment=True, filename=f"import-{job.pk}-report.csv")
