import pytest
from rest_framework.test import APIClient

from credentials.services import token_pair_obtain


@pytest.fixture
def api():
    """An API client authenticated with an access token of the given user."""

    def make(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_obtain(user=user).access}")
        return client

    return make
