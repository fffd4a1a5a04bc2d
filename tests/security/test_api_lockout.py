"""The API's token endpoint is behind the same lockout as the login page."""

import pytest
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def token_url():
    return reverse("api:token")


def test_token_endpoint_refuses_a_locked_out_username_and_ip(client, cast, token_url):
    for _ in range(10):
        client.post(token_url, {"username": "collector_a", "password": "wrong"}, REMOTE_ADDR="10.5.5.5")
    refused = client.post(token_url, {"username": "collector_a", "password": PASSWORD}, REMOTE_ADDR="10.5.5.5")
    # The right password is refused (the token view answers 401: axes flags DRF's request wrapper,
    # which the lockout-page middleware does not see).
    assert refused.status_code in (401, 429)
    assert "access" not in refused.json() and refused.json()["code"] in ("locked_out", "invalid_credentials")
    other = client.post(token_url, {"username": "collector_a2", "password": PASSWORD}, REMOTE_ADDR="10.5.5.5")
    assert other.status_code == 200 and "access" in other.json()
