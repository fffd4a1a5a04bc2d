"""The watched drop folder: core banking puts a file in ``IMPORT_DROP_DIR/<kind>/``; beat picks it up.

A file is claimed by renaming it into ``<kind>/processing/`` — one atomic rename, so of two pickers (two
beat ticks, two workers) exactly one gets it and the other finds it gone. It is imported by its kind's
importer, then moved to ``done/`` or ``failed/``; nothing ever moves a file back, so no file is read twice.

The sender should write under a name starting with ``.`` or ending in ``.part`` and rename when complete;
files younger than ``IMPORT_DROP_SETTLE_SECONDS`` are left for the next tick in case it does not.
"""

import datetime as dt
import logging
import os
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from collections_app.feed import FeedKind, FeedResult, feed_kinds

logger = logging.getLogger(__name__)
PROCESSING, DONE, FAILED = "processing", "done", "failed"
_SUBDIRS = (PROCESSING, DONE, FAILED)


def drop_dir() -> Path:
    return Path(getattr(settings, "IMPORT_DROP_DIR", Path(settings.BASE_DIR) / "var" / "drop"))


def _settle_seconds() -> int:
    return int(getattr(settings, "IMPORT_DROP_SETTLE_SECONDS", 30))


def kind_dir(kind: str) -> Path:
    folder = drop_dir() / kind
    for sub in _SUBDIRS:
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return folder


def _waiting(folder: Path) -> list[Path]:
    settled = time.time() - _settle_seconds()
    files = []
    for entry in os.scandir(folder):
        if not entry.is_file() or entry.name.startswith(".") or entry.name.endswith((".part", ".tmp")):
            continue
        try:
            mtime = entry.stat().st_mtime
        except FileNotFoundError:  # claimed by another run meanwhile
            continue
        if mtime <= settled:
            files.append((mtime, entry.name, Path(entry.path)))
    return [path for _mtime, _name, path in sorted(files)]


def drop_claim(path: Path) -> Path | None:
    """Take one waiting file for this run: its new path under processing/, or None when another run has it."""
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
    target = path.parent / PROCESSING / f"{stamp}-{uuid.uuid4().hex[:8]}-{path.name}"
    try:
        os.rename(path, target)  # atomic within one file system: exactly one claimant wins
    except FileNotFoundError:
        return None
    os.utime(target)  # the claim's time, for stuck_in_processing
    return target


def _finish(claimed: Path, result: FeedResult) -> Path:
    target = claimed.parent.parent / (DONE if result.ok else FAILED) / claimed.name
    os.replace(claimed, target)
    return target


def drop_process(kind: FeedKind, claimed: Path) -> FeedResult:
    try:
        result = kind.run(claimed)
    except Exception as exc:
        logger.exception("drop folder: %s file %s failed", kind.name, claimed.name)
        result = FeedResult(ok=False, message=exc.__class__.__name__)
    final = _finish(claimed, result)
    logger.info(
        "drop folder: %s file %s -> %s (%s)", kind.name, claimed.name, final.parent.name, result.reference or "-"
    )
    return result


def drop_pick_up(*, limit: int = 20) -> list[tuple[str, str, FeedResult]]:
    """One pass over every kind's folder: claim, import and file away up to ``limit`` files."""
    handled = []
    for kind in feed_kinds().values():
        folder = kind_dir(kind.name)
        for path in _waiting(folder):
            if len(handled) >= limit:
                return handled
            claimed = drop_claim(path)
            if claimed is None:
                continue
            handled.append((kind.name, path.name, drop_process(kind, claimed)))
    return handled


def stuck_in_processing(*, older_than: dt.timedelta = dt.timedelta(hours=6)) -> list[Path]:
    """Files a run claimed but never filed away (its worker died): left for an operator, never re-read."""
    cutoff = time.time() - older_than.total_seconds()
    stuck = []
    for kind in feed_kinds():
        processing = drop_dir() / kind / PROCESSING
        if processing.is_dir():
            stuck += [p for p in processing.iterdir() if p.is_file() and p.stat().st_mtime < cutoff]
    return stuck
