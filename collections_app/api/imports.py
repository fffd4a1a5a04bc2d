"""``/api/v1/imports/``: the daily feed through the API — upload a file, poll its job, page through its row
errors as JSON. The same services, permissions and scoping as the import page."""

import csv
import io
from itertools import islice
from pathlib import Path

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.reverse import reverse

from collections_app.api.exceptions import InputRefused
from collections_app.api.views import DoorstepViewSet
from collections_app.forms_imports import ALLOWED_SUFFIXES, MAX_UPLOAD_BYTES
from collections_app.importer.services import (
    import_job_create,
    import_job_run,
    inline_max_bytes,
    may_create_branches,
    may_import,
)
from collections_app.importer.tasks import import_job_enqueue
from collections_app.models import ImportJob, Role
from collections_app.services.uploads import storage_error

ERRORS_PAGE_SIZE = 100
ERRORS_MAX_PAGE_SIZE = 1000


class ImportJobSerializer(serializers.ModelSerializer):
    progress_percent = serializers.IntegerField(read_only=True)
    errors_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "filename",
            "status",
            "as_of",
            "create_branches",
            "total_rows",
            "processed_rows",
            "progress_percent",
            "created_count",
            "updated_count",
            "unchanged_count",
            "error_count",
            "message",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
            "errors_url",
        ]
        read_only_fields = fields

    def get_errors_url(self, job) -> str:
        return reverse("api:import-errors", args=[job.pk], request=self.context.get("request"))


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("CSV (UTF-8 or GBK) or XLSX with a header row."))
    as_of = serializers.DateField(required=False, allow_null=True)
    create_branches = serializers.BooleanField(required=False, default=False)

    def validate_file(self, upload):
        if Path(upload.name).suffix.lower() not in ALLOWED_SUFFIXES:
            raise ValidationError(_("Upload a .csv or .xlsx file."))
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(_("The file is larger than 500 MB; use the import_accounts command."))
        return upload


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True)
    column = serializers.CharField()
    value = serializers.CharField()
    reason = serializers.CharField()


def report_rows(job: ImportJob, *, offset: int, limit: int) -> tuple[int, list[dict]]:
    """The report's lines from ``offset`` (at most ``limit``) and how many there are in all."""
    if not job.report:
        return 0, []
    with job.report.open("rb") as handle:
        reader = csv.reader(io.TextIOWrapper(handle, encoding="utf-8-sig", newline=""))
        next(reader, None)  # the header
        rows = []
        for line in islice(reader, offset, offset + limit):
            number, column, value, reason = [*line, "", "", "", ""][:4]
            rows.append(
                {"row": int(number) if number.isdigit() else None, "column": column, "value": value, "reason": reason}
            )
        total = offset + len(rows) + sum(1 for _line in reader)
    return total, rows


def _positive(request, name: str, default: int, maximum: int | None = None) -> int:
    raw = request.query_params.get(name, "")
    if raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValidationError({name: [_("A whole number of 1 or more.")]})
    return min(int(raw), maximum) if maximum else int(raw)


class ImportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, DoorstepViewSet):
    """Import jobs: a supervisor's own, every job for an administrator."""

    serializer_class = ImportJobSerializer

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not may_import(request.user):
            raise PermissionDenied(_("Only supervisors and administrators can import accounts."))

    def get_queryset(self):
        jobs = ImportJob.objects.all()
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return jobs.none()
        user = self.request.user
        if not (user.role == Role.ADMIN or user.is_superuser):
            jobs = jobs.filter(created_by=user)
        return jobs

    @extend_schema(
        summary="Upload a core-banking file",
        description=(
            "Creates an import job. A small file is imported during the request (201 with the finished job); "
            "a larger one is queued for the worker (202): poll the job until `status` is done or failed."
        ),
        request={"multipart/form-data": ImportUploadSerializer},
        responses={201: ImportJobSerializer, 202: ImportJobSerializer},
    )
    def create(self, request, *args, **kwargs):
        upload_form = ImportUploadSerializer(data=request.data)
        if not upload_form.is_valid():
            # A part that is not a usable table (not a file, not CSV/XLSX, too large) is refused, not malformed.
            raise InputRefused(upload_form.errors)
        data = upload_form.validated_data
        if data.get("create_branches") and not may_create_branches(request.user):
            raise PermissionDenied(_("Only administrators can create branches during an import."))
        upload = data["file"]
        try:
            job = import_job_create(
                actor=request.user,
                upload=upload,
                as_of=data.get("as_of"),
                create_branches=data.get("create_branches", False),
            )
        except OSError as exc:
            raise storage_error(exc) from exc
        if upload.size <= inline_max_bytes():
            job = import_job_run(job_id=job.pk) or ImportJob.objects.get(pk=job.pk)
            code = status.HTTP_201_CREATED
        else:
            import_job_enqueue(job)  # a broker that cannot be reached leaves it queued for the sweep
            code = status.HTTP_202_ACCEPTED
        return Response(self.get_serializer(job).data, status=code)

    @extend_schema(
        summary="The row errors of an import, a page at a time",
        parameters=[
            OpenApiParameter("page", OpenApiTypes.INT, description=_("1 for the first page.")),
            OpenApiParameter("page_size", OpenApiTypes.INT, description=_("Up to 1000; 100 by default.")),
        ],
        responses={
            200: inline_serializer(
                "ImportRowErrorPage",
                {
                    "count": serializers.IntegerField(),
                    "next": serializers.CharField(allow_null=True),
                    "previous": serializers.CharField(allow_null=True),
                    "results": RowErrorSerializer(many=True),
                },
            )
        },
        filters=False,
    )
    @action(detail=True, methods=["get"], url_path="errors", url_name="errors")
    def errors(self, request, pk=None):
        job = self.get_object()
        page = _positive(request, "page", 1)
        size = _positive(request, "page_size", ERRORS_PAGE_SIZE, ERRORS_MAX_PAGE_SIZE)
        total, rows = report_rows(job, offset=(page - 1) * size, limit=size)
        url = request.build_absolute_uri(request.path)
        last = max(1, -(-total // size))
        return Response(
            {
                "count": total,
                "next": f"{url}?page={page + 1}&page_size={size}" if page < last else None,
                "previous": f"{url}?page={page - 1}&page_size={size}" if page > 1 else None,
                "results": rows,
            }
        )
