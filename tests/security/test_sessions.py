"""Sessions end after 30 minutes idle and 12 hours after login, whatever the activity."""

import datetime as dt
from urllib.parse import quote

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

FORM_PAGE = "http://testserver/cases/7/visit/?step=2"


def _log_in(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


def test_an_active_session_ends_twelve_hours_after_login(client, cast):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _log_in(client, cast.collector_a)
    # Busy all day: a request every 20 minutes keeps the idle limit from ever firing.
    for minutes in range(20, 12 * 60, 20):
        with time_machine.travel(start + dt.timedelta(minutes=minutes), tick=False):
            assert client.get(reverse("home")).status_code == 200, minutes
    with time_machine.travel(start + dt.timedelta(hours=12, minutes=1), tick=False):
        response = client.get(reverse("home"))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
        assert "_auth_user_id" not in client.session
        assert "reached its time limit" in client.get(response.url).content.decode()
        again = client.get(reverse("home"))
        assert again.status_code == 302 and again.url.startswith(reverse("login"))


def test_a_session_ends_after_thirty_idle_minutes(client, cast):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _log_in(client, cast.collector_a)
    with time_machine.travel(start + dt.timedelta(minutes=29), tick=False):
        assert client.get(reverse("home")).status_code == 200
    with time_machine.travel(start + dt.timedelta(minutes=29 + 31), tick=False):
        response = client.get(reverse("home"))
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_post_after_the_twelve_hours_returns_to_the_form_page_after_login(client, cast):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _log_in(client, cast.collector_a)
    for minutes in range(20, 12 * 60, 20):
        with time_machine.travel(start + dt.timedelta(minutes=minutes), tick=False):
            client.get(reverse("home"))
    with time_machine.travel(start + dt.timedelta(hours=12, minutes=1), tick=False):
        response = client.post(reverse("home"), {"notes": "typed"}, HTTP_REFERER=FORM_PAGE)
    assert response.status_code == 302
    assert response.url == reverse("login") + "?next=" + quote(FORM_PAGE, safe="/")
    assert "_auth_user_id" not in client.session


def test_a_post_after_idle_expiry_returns_to_the_form_page_after_login(client, cast):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _log_in(client, cast.collector_a)
    with time_machine.travel(start + dt.timedelta(minutes=45), tick=False):
        response = client.post(reverse("home"), {"notes": "typed"}, HTTP_REFERER=FORM_PAGE)
    assert response.status_code == 302
    assert response.url == reverse("login") + "?next=" + quote(FORM_PAGE, safe="/")


def test_a_foreign_referer_is_not_used_as_the_next_page(client, cast):
    response = client.post(reverse("home"), {}, HTTP_REFERER="https://evil.example.com/phish")
    assert response.url == reverse("login") + "?next=/"


def test_an_htmx_request_after_expiry_redirects_the_whole_page(client, cast):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _log_in(client, cast.collector_a)
    with time_machine.travel(start + dt.timedelta(hours=1), tick=False):  # idle expiry
        response = client.get(reverse("home"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("login"))


def test_drafts_script_is_loaded_on_every_page(client, cast):
    client.force_login(cast.collector_a)
    html = client.get(reverse("home")).content.decode()
    assert "js/drafts.js" in html
    assert f'data-user="{cast.collector_a.pk}"' in html
