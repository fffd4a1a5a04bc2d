"""The offline outbox across a refresh: /sync/visits/ takes a Bearer token; an expired one is a JSON 401 the
device answers by refreshing, and the retried item is recorded once."""

import datetime as dt
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from collections_app.models import Stage
from credentials.services import token_pair_obtain
from tests.visits.helpers import DAYTIME, visit_data
from visits.models import Visit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _daytime(time_machine, settings, tmp_path):
    time_machine.move_to(DAYTIME, tick=True)
    settings.MEDIA_ROOT = tmp_path / "media"


def _sync(access, case, key):
    client = Client(enforce_csrf_checks=True)
    data = {**visit_data(idempotency_key=key), "case": str(case.pk)}
    return client.post(
        reverse("visit-sync"), data, HTTP_ACCEPT="application/json", HTTP_AUTHORIZATION=f"Bearer {access}"
    )


def test_an_outbox_item_survives_an_access_token_expiring(cast, case_in_stage, time_machine):
    case = case_in_stage(Stage.VISIT)
    pair = token_pair_obtain(user=cast.collector_a)
    key = str(uuid.uuid4())
    time_machine.shift(dt.timedelta(minutes=20))
    expired = _sync(pair.access, case, key)
    assert expired.status_code == 401 and expired.json()["code"] == "token_expired"
    assert not Visit.objects.exists()
    fresh = APIClient().post(reverse("api:token-refresh"), {"refresh": pair.refresh}, format="json").json()
    retried = _sync(fresh["access"], case, key)
    assert retried.status_code == 201 and retried.json()["status"] == "created"
    again = _sync(fresh["access"], case, key)
    assert again.status_code == 200 and Visit.objects.count() == 1
    assert Visit.objects.get().collector == cast.collector_a


def test_a_revoked_token_cannot_sync(cast, case_in_stage):
    case = case_in_stage(Stage.VISIT)
    pair = token_pair_obtain(user=cast.collector_a)
    APIClient().post(reverse("api:token-revoke"), {"token": pair.access}, format="json")
    response = _sync(pair.access, case, str(uuid.uuid4()))
    assert response.status_code == 401 and response.json()["code"] == "token_revoked"
