"""API tokens: short-lived access, single-use refresh with rotation, reuse revokes the sign-in, revocation."""

import datetime as dt

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from collections_app.models import AuditLog
from credentials.models import ApiToken, token_digest
from credentials.services import token_pair_obtain
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
CASES = "/api/v1/cases/"


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 10, 2, 30, tzinfo=dt.UTC), tick=True)


def _obtain(username="collector_a"):
    response = APIClient().post(reverse("api:token"), {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def _get(access, url=CASES):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get(url)


def _refresh(refresh):
    return APIClient().post(reverse("api:token-refresh"), {"refresh": refresh}, format="json")


def test_obtain_gives_a_15_minute_access_and_a_7_day_refresh_token_stored_only_as_hashes(cast):
    pair = _obtain()
    assert pair["expires_in"] == 15 * 60 and pair["token_type"] == "Bearer"
    rows = {row.kind: row for row in ApiToken.objects.filter(user=cast.collector_a)}
    assert rows["access"].digest == token_digest(pair["access"])
    assert rows["refresh"].expires_at - rows["refresh"].created_at == pytest.approx(
        dt.timedelta(days=7), abs=dt.timedelta(seconds=5)
    )
    assert not ApiToken.objects.filter(digest__in=[pair["access"], pair["refresh"]]).exists()
    assert AuditLog.objects.filter(action="api_token.obtain", actor=cast.collector_a).count() == 1
    assert _get(pair["access"]).status_code == 200


def test_an_access_token_expires_after_15_minutes(cast, time_machine):
    pair = _obtain()
    time_machine.shift(dt.timedelta(minutes=16))
    response = _get(pair["access"])
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired" and response["WWW-Authenticate"].startswith("Bearer")


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_sign_in(cast):
    first = _obtain()
    second = _refresh(first["refresh"])
    assert second.status_code == 200
    second = second.json()
    assert second["refresh"] != first["refresh"] and _get(second["access"]).status_code == 200
    # The first refresh token again: someone holds a copy. Every token of that sign-in stops working.
    reused = _refresh(first["refresh"])
    assert reused.status_code == 401 and reused.json()["code"] == "token_reused"
    assert _get(second["access"]).status_code == 401
    assert _refresh(second["refresh"]).json()["code"] == "token_revoked"
    assert AuditLog.objects.filter(action="api_token.reuse").count() == 1
    # Another sign-in of the same user is untouched.
    other = _obtain()
    assert _get(other["access"]).status_code == 200


def test_an_expired_or_unknown_refresh_token_is_refused(cast, time_machine):
    pair = _obtain()
    assert _refresh("dsr_nonsense").json()["code"] == "token_invalid"
    time_machine.shift(dt.timedelta(days=7, minutes=1))
    response = _refresh(pair["refresh"])
    assert response.status_code == 401 and response.json()["code"] == "token_expired"


def test_revoke_signs_out_one_device(cast):
    phone, tablet = _obtain(), _obtain()
    response = APIClient().post(reverse("api:token-revoke"), {"token": phone["refresh"]}, format="json")
    assert response.status_code == 200 and response.json() == {"revoked": 2}
    assert _get(phone["access"]).status_code == 401
    assert _get(tablet["access"]).status_code == 200


def test_an_inactive_user_cannot_use_their_tokens(cast):
    pair = _obtain()
    cast.collector_a.is_active = False
    cast.collector_a.save()
    assert _get(pair["access"]).status_code == 401
    assert _refresh(pair["refresh"]).status_code == 401


def test_the_signed_in_browser_gets_a_pair_from_its_session(client, cast):
    client.force_login(cast.collector_a)
    response = client.post(reverse("api:token"), {}, content_type="application/json")
    assert response.status_code == 200 and response.json()["access"].startswith("dsa_")


def test_the_browser_session_needs_its_csrf_token_to_get_a_pair(cast):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.collector_a)
    assert client.post(reverse("api:token"), {}, content_type="application/json").status_code == 403


def test_the_old_token_scheme_is_not_accepted(cast):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_pair_obtain(user=cast.collector_a).access}")
    assert client.get(CASES).status_code == 401
