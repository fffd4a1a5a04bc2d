import pytest

from tests.visits.helpers import DAYTIME


@pytest.fixture(autouse=True)
def _daytime(time_machine):
    """Visits are refused in quiet hours: run every test on a fixed weekday morning."""
    time_machine.move_to(DAYTIME, tick=True)
