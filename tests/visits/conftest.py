import pytest

from tests.visits.helpers import DAYTIME


@pytest.fixture(autouse=True)
def _daytime(time_machine):
    """Rules depend on the borrower's local time: run every test on a fixed weekday morning."""
    time_machine.move_to(DAYTIME, tick=True)


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
