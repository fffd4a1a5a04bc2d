import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import translation

from collections_app.models import Stage
from tests.visits.helpers import DAYTIME, image_upload
from visits.services import visit_log


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English whatever an earlier request left active."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _daytime(time_machine):
    time_machine.move_to(DAYTIME, tick=True)


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def visited_case(case_in_stage, cast, django_capture_on_commit_callbacks):
    """Collector A's case after a visit with one photo (now in negotiation)."""
    case = case_in_stage(Stage.VISIT)
    # Photos move into place when the visit commits (collections_app.services.uploads).
    with django_capture_on_commit_callbacks(execute=True):
        visit, _created = visit_log(
            case=case,
            actor=cast.collector_a,
            idempotency_key=uuid.uuid4(),
            checked_in_at=DAYTIME - dt.timedelta(minutes=40),
            checked_out_at=DAYTIME - dt.timedelta(minutes=5),
            identity_confirmed=True,
            met="borrower",
            outcome="promised",
            lat=Decimal("31.298900"),
            lng=Decimal("120.585300"),
            geo_status="ok",
            attitude="cooperative",
            overdue_reason="income_loss",
            notes="愿意周五还款 2000",
            photos=[image_upload()],
        )
    case.refresh_from_db()
    case.visit = visit
    return case


def tamper(sql: str, params=()) -> None:
    """Change rows behind the application's back, as someone with the database owner's rights could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # a superuser session skips the append-only trigger
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = origin")
