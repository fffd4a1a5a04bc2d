"""The watched drop folder: a file is claimed once, imported, filed in done/ or failed/, never read twice."""

import os
import threading
import time

import pytest
from django.conf import settings as django_settings

from collections_app.feed import _KINDS as KINDS
from collections_app.feed import FeedKind, FeedResult, feed_kinds, register_feed_kind
from collections_app.feed.drop import drop_claim, drop_pick_up, kind_dir
from collections_app.feed.tasks import pick_up_drop_folder
from collections_app.models import DelinquentAccount, ImportJob
from tests.imports.conftest import csv_bytes, row

pytestmark = pytest.mark.django_db


def _drop(kind: str, name: str, content: bytes) -> None:
    folder = kind_dir(kind)
    (folder / name).write_bytes(content)


def _names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())


def test_an_accounts_file_is_imported_and_moved_to_done(cast, _media_and_drop):
    _drop("accounts", "accounts-20260310.csv", csv_bytes([row("A0001"), row("A0002")]))
    assert pick_up_drop_folder() == 1
    folder = _media_and_drop / "accounts"
    assert _names(folder) == [] and _names(folder / "processing") == []
    done = _names(folder / "done")
    assert len(done) == 1 and done[0].endswith("-accounts-20260310.csv")
    assert DelinquentAccount.objects.filter(account_no__in=["A0001", "A0002"]).count() == 2
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.DONE and job.created_by is None
    # Nothing is read twice: the next pass finds nothing.
    assert pick_up_drop_folder() == 0 and ImportJob.objects.count() == 1


def test_a_broken_file_goes_to_failed(cast, _media_and_drop):
    _drop("accounts", "broken.csv", b"not,the,right,header\n1,2,3,4\n")
    drop_pick_up()
    folder = _media_and_drop / "accounts"
    assert len(_names(folder / "failed")) == 1 and _names(folder / "done") == []
    assert ImportJob.objects.get().status == ImportJob.Status.FAILED


def test_files_still_being_written_wait(cast, _media_and_drop, settings):
    _drop("accounts", "half.csv.part", b"account_no\n")
    _drop("accounts", ".hidden.csv", b"account_no\n")
    assert drop_pick_up() == []
    settings.IMPORT_DROP_SETTLE_SECONDS = 3600
    _drop("accounts", "fresh.csv", csv_bytes([row("A0001")]))
    assert drop_pick_up() == []
    assert sorted(_names(_media_and_drop / "accounts")) == [".hidden.csv", "fresh.csv", "half.csv.part"]


def test_two_concurrent_pickers_claim_a_file_once(_media_and_drop):
    folder = kind_dir("accounts")
    for attempt in range(50):
        path = folder / f"race-{attempt}.csv"
        path.write_bytes(b"x")
        start = threading.Barrier(2)
        claims = []

        def pick(path=path, start=start, claims=claims):
            start.wait()
            claims.append(drop_claim(path))

        threads = [threading.Thread(target=pick) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        won = [c for c in claims if c is not None]
        assert len(won) == 1 and won[0].parent.name == "processing" and won[0].exists()
    assert len(_names(folder / "processing")) == 50 and _names(folder) == []


def test_two_concurrent_passes_import_each_file_once(_media_and_drop):
    seen = []
    lock = threading.Lock()

    def run(path):
        with lock:
            seen.append(path.name.split("-", 2)[2])
        time.sleep(0.01)
        return FeedResult(ok=True, reference="test")

    register_feed_kind(FeedKind(name="testkind", label="Test", run=run))
    try:
        for i in range(20):
            _drop("testkind", f"f{i:02d}.csv", b"x")
        # Only the test kind: the accounts importer needs the database, which threads here do not share.
        accounts = KINDS.pop("accounts")
        try:
            threads = [threading.Thread(target=drop_pick_up, kwargs={"limit": 100}) for _ in range(3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            KINDS["accounts"] = accounts
    finally:
        KINDS.pop("testkind")
    assert sorted(seen) == [f"f{i:02d}.csv" for i in range(20)]
    assert len(_names(_media_and_drop / "testkind" / "done")) == 20


def test_kinds_are_a_registry_with_accounts_built_in_and_beat_runs_the_pass():
    assert "accounts" in feed_kinds()
    tasks = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "collections_app.feed.tasks.pick_up_drop_folder" in tasks
    with pytest.raises(ValueError):
        register_feed_kind(FeedKind(name="../etc", label="x", run=lambda path: FeedResult(ok=True)))
    assert os.sep not in "".join(feed_kinds())
