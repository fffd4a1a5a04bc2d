import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from collections_app.exceptions import RuleRefused
from collections_app.models import AuditLog, CaseEvent, RulePack
from collections_app.rules import QUIET_HOURS, check_quiet_hours, in_quiet_hours

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    "hh,mm,quiet", [(21, 59, False), (22, 0, True), (23, 30, True), (0, 0, True), (7, 59, True), (8, 0, False)]
)
def test_china_quiet_hours_boundaries(hh, mm, quiet):
    pack = RulePack.objects.get(code="CN")
    assert in_quiet_hours(dt.datetime(2026, 11, 28, hh, mm, tzinfo=SHANGHAI), SHANGHAI, pack) is quiet


def test_us_pack_starts_quiet_hours_at_nine():
    pack = RulePack.objects.get(code="US")
    assert in_quiet_hours(dt.datetime(2026, 11, 28, 21, 0, tzinfo=SHANGHAI), SHANGHAI, pack)


def test_quiet_hours_use_the_borrowers_time_zone(case_a):
    # 15:00 UTC is 23:00 in Shanghai: refused although it is mid-afternoon in UTC.
    when = dt.datetime(2026, 11, 28, 15, 0, tzinfo=dt.UTC)
    with pytest.raises(RuleRefused, match="quiet-hours rule") as refused:
        check_quiet_hours(case=case_a, actor=case_a.assigned_collector, when=when, consent=False, action="schedule")
    assert refused.value.rule == QUIET_HOURS
    event = CaseEvent.objects.get(case=case_a, kind=CaseEvent.Kind.REFUSED)
    assert event.payload["rule"] == QUIET_HOURS
    assert AuditLog.objects.filter(action="compliance.refused").count() == 1


def test_consent_lifts_quiet_hours(case_a):
    when = dt.datetime(2026, 11, 28, 23, 0, tzinfo=SHANGHAI)
    check_quiet_hours(case=case_a, actor=case_a.assigned_collector, when=when, consent=True, action="schedule")
    assert not CaseEvent.objects.filter(case=case_a, kind=CaseEvent.Kind.REFUSED).exists()
