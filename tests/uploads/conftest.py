import errno
import os

import pytest
from django.core.files.storage import FileSystemStorage

from tests.visits.helpers import DAYTIME


@pytest.fixture(autouse=True)
def _daytime(time_machine):
    time_machine.move_to(DAYTIME, tick=True)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def files_under(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def failing_disk(monkeypatch):
    """Make the media storage fail like a real disk: the ``after``-th file written is cut short, then OSError."""

    def fail(code: int = errno.ENOSPC, after: int = 0):
        real_save = FileSystemStorage._save
        calls = {"n": 0}

        def _save(self, name, content):
            calls["n"] += 1
            if calls["n"] <= after:
                return real_save(self, name, content)
            # Half the bytes reach the disk before it refuses the rest, as on a full disk.
            path = self.path(name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            content.seek(0)
            with open(path, "wb") as handle:
                handle.write(content.read()[: max(1, content.size // 2)])
            raise OSError(code, os.strerror(code))

        monkeypatch.setattr(FileSystemStorage, "_save", _save)
        return calls

    return fail
