"""Verifying a case's evidence: its hash chain and its photos' digests."""

import hashlib
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from collections_app import chain
from collections_app.models import AuditLog, CaseEvent
from visits.models import VisitPhoto


@dataclass(frozen=True)
class PhotoProblem:
    photo_id: int
    visit_id: int
    reason: str


@dataclass(frozen=True)
class CaseVerification:
    case_id: int
    chain: chain.ChainReport
    photos_checked: int
    photo_problems: list[PhotoProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.photo_problems


def file_sha256(photo: VisitPhoto) -> str | None:
    """The digest of the stored file as it is now; None when the file is gone."""
    digest = hashlib.sha256()
    try:
        with photo.file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 16), b""):
                digest.update(chunk)
    except (FileNotFoundError, ValueError):
        return None
    return digest.hexdigest()


def chained_photo_digests(case_id: int) -> dict[int, set[str]]:
    """Per visit, the photo digests written into the chained records when the visit was logged: its case
    event (``photo_sha256``), or for visits logged before that, its audit row."""
    recorded: dict[int, set[str]] = {}
    for payload in CaseEvent.objects.filter(case_id=case_id, kind=CaseEvent.Kind.VISIT).values_list(
        "payload", flat=True
    ):
        if isinstance(payload, dict) and "photo_sha256" in payload:
            recorded[int(payload["visit"])] = set(payload["photo_sha256"])
    return recorded


def _audited_photo_digests(visit_ids: list[int]) -> dict[int, set[str]]:
    rows = AuditLog.objects.filter(
        action="visit.log", object_type="visits.visit", object_id__in=[str(pk) for pk in visit_ids]
    ).values_list("object_id", "changes")
    return {int(object_id): set(changes.get("photos") or []) for object_id, changes in rows}


def verify_case_evidence(case_id: int) -> CaseVerification:
    report = chain.verify_case(case_id)
    photos = list(VisitPhoto.objects.filter(visit__case_id=case_id).order_by("id"))
    recorded = chained_photo_digests(case_id)
    missing = [photo.visit_id for photo in photos if photo.visit_id not in recorded]
    if missing:
        recorded.update(_audited_photo_digests(missing))
    problems = []
    for photo in photos:
        actual = file_sha256(photo)
        if actual is None:
            problems.append(PhotoProblem(photo.pk, photo.visit_id, _("the photo file is missing")))
        elif actual != photo.sha256:
            problems.append(PhotoProblem(photo.pk, photo.visit_id, _("the photo file no longer matches its digest")))
        elif photo.sha256 not in recorded.get(photo.visit_id, set()):
            problems.append(
                PhotoProblem(photo.pk, photo.visit_id, _("the photo's digest is not the one recorded with the visit"))
            )
    return CaseVerification(case_id, report, len(photos), problems)
