"""The daily sweep removes uploaded files that no row names once they are a day old, and nothing else."""

import datetime as dt
import os

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from collections_app.models import ImportJob
from collections_app.services.uploads import orphans_remove
from collections_app.tasks import remove_orphan_uploads
from tests.uploads.conftest import files_under

pytestmark = pytest.mark.django_db


def _file(media, name: str, age: dt.timedelta):
    path = media / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    stamp = (timezone.now() - age).timestamp()
    os.utime(path, (stamp, stamp))
    return name


def test_old_orphans_go_young_ones_and_named_ones_stay(media, cast):
    day = dt.timedelta(days=1)
    orphan = _file(media, "visit-photos/7/abc.png", day + dt.timedelta(hours=1))
    staged = _file(media, ".staging/def.png.part", day * 3)
    young = _file(media, "visit-photos/7/young.png", dt.timedelta(hours=2))
    named = _file(media, "imports/20260101-accounts.csv", day * 5)
    ImportJob.objects.create(created_by=cast.admin, filename="accounts.csv", file=named)
    outside = _file(media, "elsewhere/old.txt", day * 9)
    removed = orphans_remove()
    assert sorted(removed) == sorted([orphan, staged])
    assert files_under(media) == sorted([young, named, outside])


def test_the_task_runs_the_sweep_and_is_on_the_beat_schedule(media, cast):
    _file(media, "import-reports/old.csv", dt.timedelta(days=2))
    assert remove_orphan_uploads() == 1
    assert files_under(media) == []
    entries = [e["task"] for e in django_settings.CELERY_BEAT_SCHEDULE.values()]
    assert "collections_app.tasks.remove_orphan_uploads" in entries
