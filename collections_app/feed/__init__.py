"""The daily feed from core banking: the kinds of file it carries, each imported by its own app.

A kind names a sub-folder of the drop folder (``IMPORT_DROP_DIR/<kind>/``) and the function that imports
one claimed file. The core registers ``accounts`` (the account importer); another app adds its own kind
in its ``AppConfig.ready()`` — e.g. monthly statements::

    from collections_app.feed import FeedKind, register_feed_kind
    register_feed_kind(FeedKind(name="statements", label=_("Statements"), run=statement_import_file))

``run(path)`` imports the file at ``path`` and returns a ``FeedResult``: ok or not, and a reference
(an import job id) for the log and the operator.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FeedResult:
    ok: bool
    reference: str = ""
    message: str = ""


@dataclass(frozen=True)
class FeedKind:
    name: str
    label: str
    run: Callable[[Path], FeedResult]


_KINDS: dict[str, FeedKind] = {}


def register_feed_kind(kind: FeedKind) -> None:
    if not kind.name.isidentifier():
        raise ValueError(f"a feed kind names a folder: {kind.name!r}")
    _KINDS[kind.name] = kind


def feed_kinds() -> dict[str, FeedKind]:
    return dict(_KINDS)


def _accounts_run(path: Path) -> FeedResult:
    from collections_app.importer.services import import_file
    from collections_app.models import ImportJob

    job = import_file(path=path)
    return FeedResult(ok=job.status == ImportJob.Status.DONE, reference=f"import job {job.pk}", message=job.message)


def register_core_kinds() -> None:
    from django.utils.translation import gettext_lazy as _

    register_feed_kind(FeedKind(name="accounts", label=_("Accounts"), run=_accounts_run))
