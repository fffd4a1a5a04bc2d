"""Login lockout (django-axes): 10 failures per username+IP lock that pair for 30 minutes."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from collections_app.models import AuditLog
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

SHARED_IP = "10.20.30.40"


def _login(client, username, password, ip=SHARED_IP):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def _fail(client, username, times, ip=SHARED_IP):
    return [_login(client, username, "wrong-password", ip).status_code for _ in range(times)]


def test_ten_failures_lock_that_username_on_that_ip_with_a_lockout_page(client, cast):
    statuses = _fail(client, "collector_a", 10)
    assert statuses[:9] == [200] * 9  # the login form again, with an error
    assert statuses[9] == 429

    response = _login(client, "collector_a", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    html = response.content.decode()
    assert 'data-lockout="true"' in html and "Too many failed logins" in html
    assert AuditLog.objects.filter(action="auth.lockout", ip_address=SHARED_IP).count() == 1


def test_other_users_on_the_same_ip_are_not_locked(client, cast):
    _fail(client, "collector_a", 10)
    response = _login(client, "collector_a2", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(cast.collector_a2.pk)


def test_the_same_user_from_another_ip_is_not_locked(client, cast):
    _fail(client, "collector_a", 10)
    assert _login(client, "collector_a", PASSWORD, ip="10.99.99.99").status_code == 302


def test_nine_failures_do_not_lock(client, cast):
    _fail(client, "collector_a", 9)
    assert _login(client, "collector_a", PASSWORD).status_code == 302


def test_lockout_ends_after_thirty_minutes_and_is_not_extended_by_attempts(client, cast):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _fail(client, "collector_a", 10)
    with time_machine.travel(start + dt.timedelta(minutes=20), tick=False):
        assert _login(client, "collector_a", "wrong-password").status_code == 429
    with time_machine.travel(start + dt.timedelta(minutes=29), tick=False):
        assert _login(client, "collector_a", PASSWORD).status_code == 429
    with time_machine.travel(start + dt.timedelta(minutes=31), tick=False):
        assert _login(client, "collector_a", PASSWORD).status_code == 302


def test_failures_more_than_thirty_minutes_apart_do_not_add_up(client, cast):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _fail(client, "collector_a", 9)
    with time_machine.travel(start + dt.timedelta(minutes=31), tick=False):
        assert _fail(client, "collector_a", 1) == [200]
        assert _login(client, "collector_a", PASSWORD).status_code == 302
