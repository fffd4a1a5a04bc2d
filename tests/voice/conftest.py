import pytest
from django.core.cache import caches

from tests.visits.helpers import DAYTIME


@pytest.fixture(autouse=True)
def _daytime(time_machine):
    """Visits are refused in quiet hours: run every test on a fixed weekday morning."""
    time_machine.move_to(DAYTIME, tick=True)


@pytest.fixture(autouse=True)
def _own_rate_counters(monkeypatch):
    """The link's rate counters in this process's cache, emptied per test: the shared one outlives tests."""
    monkeypatch.setattr("voice.services_link.RATE_CACHE", "default")
    caches["default"].clear()
    yield
    caches["default"].clear()
