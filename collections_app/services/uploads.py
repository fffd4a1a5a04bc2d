"""Uploaded files that a fault never leaves half-written.

A file is written under a temporary name in ``.staging/`` while the transaction that records it runs;
only when that transaction commits is it moved to the name its row holds (``transaction.on_commit``).
When the transaction rolls back, or the write itself fails, the temporary file is removed, so a full
or read-only disk leaves neither a file nor a row. A disk error becomes ``StorageUnavailable``, a
refusal the user can read (``code`` ``storage_full`` / ``storage_read_only`` / ``storage_error``).

A file chosen for a submit the server refused (a rule, a missing field) is *held* (``upload_hold``):
kept under ``.staging/held/`` behind a signed token naming its owner and purpose, so the returned form
sends the token instead of asking for the file again (``held_upload_open``, ``held_uploads_release``).

Whatever still escapes (a process killed between commit and move, a rollback of an outer transaction,
a held file never sent again) is an orphan: ``orphans_remove`` (a daily beat task) deletes files older
than a day that no row names.
"""

import contextlib
import datetime as dt
import errno
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from django.apps import apps
from django.core import signing
from django.core.files.storage import Storage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collections_app.exceptions import DoorstepError

logger = logging.getLogger(__name__)
STAGING_DIR = ".staging"
ORPHAN_AGE = dt.timedelta(days=1)
# The media directories the orphan sweep walks (FileField ``upload_to`` roots) besides the staging one.
UPLOAD_DIRS = ["visit-photos", "finance-evidence", "imports", "import-reports"]


class StorageUnavailable(DoorstepError):
    """The disk refused the write: nothing was recorded, the user may try again later."""

    default_message = _("The file could not be stored; nothing was saved. Try again later.")
    status_code = 503


_MESSAGES = {
    errno.ENOSPC: (
        "storage_full",
        507,
        _("The server's storage is full, so the file could not be saved; nothing was recorded. Try again later."),
    ),
    errno.EDQUOT: (
        "storage_full",
        507,
        _("The server's storage is full, so the file could not be saved; nothing was recorded. Try again later."),
    ),
    errno.EROFS: (
        "storage_read_only",
        503,
        _("The server's storage is read-only, so the file could not be saved; nothing was recorded. Try again later."),
    ),
}


def storage_error(exc: OSError) -> StorageUnavailable:
    code, status, message = _MESSAGES.get(exc.errno, ("storage_error", 503, StorageUnavailable.default_message))
    error = StorageUnavailable(message, code=code)
    error.status_code = status
    return error


def _discard(storage: Storage, name: str) -> None:
    try:
        storage.delete(name)
    except (OSError, NotImplementedError) as exc:  # the sweep removes it later
        logger.warning("staged upload %s not removed: %s", name, exc.__class__.__name__)


def _local_path(storage: Storage, name: str) -> str | None:
    try:
        return storage.path(name)
    except NotImplementedError:
        return None


def _move(storage: Storage, temp: str, final: str) -> None:
    """After commit: the staged file takes the name its row holds (a rename on a local disk)."""
    try:
        source, target = _local_path(storage, temp), _local_path(storage, final)
        if source and target:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(source, target)
        else:
            with storage.open(temp, "rb") as handle:
                storage.save(final, handle)
            storage.delete(temp)
    except OSError:
        # The row is committed; the file stays staged and the orphan sweep will remove it. Loud, since a
        # committed row now names a missing file.
        logger.exception("staged upload %s could not be moved to %s", temp, final)


class Staging:
    """The files one write stages; see ``staged()``."""

    def __init__(self) -> None:
        self._staged: list[tuple[Storage, str]] = []

    def put(self, field_file: FieldFile, name: str, content) -> None:
        """Write ``content`` under a temporary name; the field gets its final name, filled after commit."""
        storage = field_file.storage
        final = field_file.field.generate_filename(field_file.instance, name)
        ext = os.path.splitext(final)[1]
        temp = f"{STAGING_DIR}/{uuid.uuid4().hex}{ext}.part"
        content.seek(0)
        try:
            saved = storage.save(temp, content, max_length=field_file.field.max_length)
        except OSError as exc:
            # The write may have left a truncated file (FileSystemStorage does not remove it).
            _discard(storage, temp)
            raise storage_error(exc) from exc
        self._staged.append((storage, saved))
        field_file.name = final
        field_file._committed = True
        transaction.on_commit(partial(self._commit_one, storage, saved, final))

    def _commit_one(self, storage: Storage, temp: str, final: str) -> None:
        _move(storage, temp, final)
        with contextlib.suppress(ValueError):
            self._staged.remove((storage, temp))

    def discard(self) -> None:
        for storage, temp in self._staged:
            _discard(storage, temp)
        self._staged.clear()


@contextlib.contextmanager
def staged() -> Iterator[Staging]:
    """Wrap the atomic write that records the files: on any error its staged files are removed.

    Use it outside the ``transaction.atomic`` block, so the error arrives after the rollback.
    """
    staging = Staging()
    try:
        yield staging
    except BaseException:
        staging.discard()
        raise


@contextlib.contextmanager
def local_copy(field_file: FieldFile) -> Iterator[Path]:
    """A path on this machine to read a stored file from: the file itself on a local disk, or a temporary
    copy (removed afterwards) when the storage is object storage with no local path (S3)."""
    path = _local_path(field_file.storage, field_file.name)
    if path is not None:
        yield Path(path)
        return
    suffix = os.path.splitext(field_file.name)[1]
    with tempfile.NamedTemporaryFile(suffix=suffix) as copy:
        with field_file.storage.open(field_file.name, "rb") as source:
            shutil.copyfileobj(source, copy, 1024 * 1024)
        copy.flush()
        yield Path(copy.name)


# --- held uploads: a refused submit keeps the chosen files ---------------------------------------------

HELD_DIR = f"{STAGING_DIR}/held"
_HELD_SALT = "collections_app.uploads.held"


@dataclass(frozen=True)
class HeldUpload:
    token: str
    label: str  # the file's name as chosen on the device, for the returned form


def upload_hold(*, upload, owner_id: int, scope: str, storage: Storage | None = None) -> HeldUpload:
    """Keep a chosen file after a refused submit; the token (signed: only ``owner_id`` may send it back,
    only for ``scope``) stands for it on the returned form. The orphan sweep removes it after a day."""
    storage = storage or default_storage
    label = os.path.basename(upload.name or "")[:100] or "upload"
    ext = os.path.splitext(label)[1].lower()[:8]
    name = f"{HELD_DIR}/{uuid.uuid4().hex}{ext}"
    upload.seek(0)
    try:
        saved = storage.save(name, upload)
    except OSError as exc:
        _discard(storage, name)
        raise storage_error(exc) from exc
    finally:
        upload.seek(0)
    content_type = getattr(upload, "content_type", "") or "application/octet-stream"
    payload = {"name": saved, "label": label, "type": content_type, "owner": owner_id, "scope": scope}
    return HeldUpload(token=signing.dumps(payload, salt=_HELD_SALT, compress=True), label=label)


def _held_payload(token: str, *, owner_id: int, scope: str) -> dict | None:
    try:
        payload = signing.loads(token, salt=_HELD_SALT, max_age=ORPHAN_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("owner") != owner_id or payload.get("scope") != scope:
        return None
    name = str(payload.get("name", ""))
    if not name.startswith(f"{HELD_DIR}/") or ".." in name:
        return None
    return payload


def held_upload(token: str, *, owner_id: int, scope: str) -> HeldUpload | None:
    """The held file a token names, if the token is genuine, recent and ``owner_id``'s for ``scope``."""
    payload = _held_payload(token, owner_id=owner_id, scope=scope)
    return HeldUpload(token=token, label=payload["label"]) if payload else None


def held_upload_open(token: str, *, owner_id: int, scope: str, storage: Storage | None = None):
    """The held file as an upload (read into memory: photos are capped at a few MB), or None when
    the token is not valid for this owner and scope or the file is gone."""
    storage = storage or default_storage
    payload = _held_payload(token, owner_id=owner_id, scope=scope)
    if payload is None:
        return None
    try:
        with storage.open(payload["name"], "rb") as handle:
            content = handle.read()
    except OSError:
        return None
    return SimpleUploadedFile(payload["label"], content, content_type=payload["type"])


def held_uploads_release(tokens: Iterable[str], *, owner_id: int, scope: str, storage: Storage | None = None) -> None:
    """Remove held files once what they were held for is recorded (after commit)."""
    storage = storage or default_storage
    for token in tokens:
        payload = _held_payload(token, owner_id=owner_id, scope=scope)
        if payload is not None:
            _discard(storage, payload["name"])


# --- the orphan sweep -------------------------------------------------------------------------------


def _walk(storage: Storage, directory: str) -> Iterator[str]:
    try:
        dirs, files = storage.listdir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in files:
        yield f"{directory}/{name}"
    for sub in dirs:
        yield from _walk(storage, f"{directory}/{sub}")


def _file_fields() -> list[tuple[type[models.Model], str]]:
    return [
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FileField)
    ]


def _names_in_use(names: list[str]) -> set[str]:
    used: set[str] = set()
    for model, field in _file_fields():
        used.update(model._default_manager.filter(**{f"{field}__in": names}).values_list(field, flat=True))
    return used


def orphans_remove(*, now: dt.datetime | None = None, storage: Storage | None = None) -> list[str]:
    """Delete files under the upload directories older than a day that no row names; returns their names."""
    storage = storage or default_storage
    cutoff = (now or timezone.now()) - ORPHAN_AGE
    old: list[str] = []
    for directory in [STAGING_DIR, *UPLOAD_DIRS]:
        for name in _walk(storage, directory):
            try:
                if storage.get_modified_time(name) < cutoff:
                    old.append(name)
            except FileNotFoundError:
                continue
    removed = []
    for start in range(0, len(old), 500):
        batch = old[start : start + 500]
        used = _names_in_use(batch)
        for name in batch:
            if name not in used:
                _discard(storage, name)
                removed.append(name)
    if removed:
        logger.info("removed %s orphan upload(s)", len(removed))
    return removed
