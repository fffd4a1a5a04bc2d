import datetime as dt
from decimal import Decimal

import pytest

from collections_app.models import Stage
from collections_app.services.cases import case_assign, case_open, case_transition
from tests.factories import AccountFactory, visit_plan_ready
from tests.visits.helpers import DAYTIME, SHANGHAI
from visits.models import VisitPlan


@pytest.fixture(autouse=True)
def _daytime(time_machine):
    """A fixed weekday morning in Suzhou: outside the quiet hours (22:00 to 08:00)."""
    time_machine.move_to(DAYTIME, tick=True)


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def at(hour: int, minute: int = 0, day: dt.date | None = None) -> dt.datetime:
    day = day or DAYTIME.date()
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def planned_case(cast):
    """Factory: a case of team X assigned to ``collector`` with a visit planned at ``when`` at (lat, lng)."""

    def make(lat=31.30, lng=120.60, when=None, *, collector=None, stage=Stage.VISIT, priority="10", consent=False):
        collector = collector or cast.collector_a
        account = AccountFactory(branch=cast.branch_a)
        case = case_open(account=account, actor=cast.supervisor_x, team=cast.team_x)
        case = case_assign(case=case, collector=collector, actor=cast.supervisor_x)
        for target in (Stage.PREPARATION, Stage.VISIT):
            if case.stage == stage:
                break
            if target == Stage.VISIT:
                visit_plan_ready(case, collector)
            case_transition(case=case, target=target, actor=collector)
        address = account.borrower.addresses.get()
        address.lat = None if lat is None else Decimal(str(lat))
        address.lng = None if lng is None else Decimal(str(lng))
        address.save()
        case.priority_score = Decimal(priority)
        case.save(update_fields=["priority_score"])
        VisitPlan.objects.update_or_create(
            case=case,
            defaults={
                "planned_at": when or at(15),
                "address": address,
                "consent_outside_hours": consent,
                "updated_by": collector,
            },
        )
        return case

    return make
