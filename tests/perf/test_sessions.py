"""The session is written at most once a minute, not on every request, and still ends after 30
idle minutes (counted from its last write: one-minute granularity) and 12 hours after login."""

import datetime as dt

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from collections_app.security import ACTIVE_AT
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _log_in(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


def _session_writes(client, url) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        status = client.get(url).status_code
    writes = [
        q["sql"]
        for q in ctx.captured_queries
        if "django_session" in q["sql"] and q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))
    ]
    return status, writes


def _expiry(client):
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_requests_within_a_minute_of_the_last_write_do_not_write_the_session(client, cast):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _log_in(client, cast.collector_a)
    expiry = _expiry(client)
    for seconds in (1, 30, 59):
        with time_machine.travel(start + dt.timedelta(seconds=seconds), tick=False):
            status, writes = _session_writes(client, reverse("home"))
        assert status == 200 and writes == [], seconds
    assert _expiry(client) == expiry


def test_a_request_a_minute_after_the_last_write_renews_the_idle_expiry(client, cast):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _log_in(client, cast.collector_a)
    later = start + dt.timedelta(seconds=61)
    with time_machine.travel(later, tick=False):
        status, writes = _session_writes(client, reverse("home"))
        response = client.get(reverse("home"))
    assert status == 200 and len(writes) == 1
    assert abs(_expiry(client) - (later + dt.timedelta(minutes=30))) < dt.timedelta(seconds=1)
    assert client.session[ACTIVE_AT] == int(later.timestamp())
    assert "sessionid" not in response.cookies  # the cookie is sent only with a write


def test_idle_expiry_counts_from_the_last_write(client, cast):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _log_in(client, cast.collector_a)
    # Within the minute after login: served, but the session is not written again ...
    with time_machine.travel(start + dt.timedelta(seconds=50), tick=False):
        assert client.get(reverse("home")).status_code == 200
    # ... so 30 minutes after the login's write it has ended, 29 min 10 s after the last request.
    with time_machine.travel(start + dt.timedelta(minutes=30, seconds=1), tick=False):
        response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_request_every_few_minutes_keeps_the_session_until_the_absolute_limit(client, cast):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _log_in(client, cast.collector_a)
    for minutes in range(5, 12 * 60, 25):
        with time_machine.travel(start + dt.timedelta(minutes=minutes), tick=False):
            assert client.get(reverse("home")).status_code == 200, minutes
    with time_machine.travel(start + dt.timedelta(hours=12, minutes=1), tick=False):
        response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
