"""A lost phone: the user's supervisor or an administrator revokes every token of the user, audited."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from collections_app.models import AuditLog
from credentials.models import ApiToken
from credentials.services import token_pair_obtain

pytestmark = pytest.mark.django_db


def _bearer(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_obtain(user=user).access}")
    return client


def _works(access) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get("/api/v1/cases/").status_code == 200


def test_supervisor_revokes_every_token_of_their_collector_through_the_api(cast):
    phone, tablet = token_pair_obtain(user=cast.collector_a), token_pair_obtain(user=cast.collector_a)
    kept = token_pair_obtain(user=cast.collector_b)
    url = reverse("api:user-tokens-revoke", args=[cast.collector_a.pk])
    response = _bearer(cast.supervisor_x).post(url)
    assert response.status_code == 200 and response.json() == {"revoked": 4}
    assert not _works(phone.access) and not _works(tablet.access)
    assert _works(kept.access)
    entry = AuditLog.objects.get(action="api_token.revoke_all")
    assert entry.actor == cast.supervisor_x and entry.object_id == str(cast.collector_a.pk)
    assert entry.changes["revoked"] == 4


def test_another_teams_supervisor_or_a_collector_gets_404_and_nothing_changes(cast):
    token_pair_obtain(user=cast.collector_a)
    url = reverse("api:user-tokens-revoke", args=[cast.collector_a.pk])
    for user in (cast.supervisor_y, cast.collector_b, cast.manager):
        assert _bearer(user).post(url).status_code == 404
    assert _bearer(cast.supervisor_x).get(url).status_code == 405
    assert _bearer(cast.supervisor_x).post(reverse("api:user-tokens-revoke", args=[99999])).status_code == 404
    assert ApiToken.objects.filter(user=cast.collector_a, revoked_at__isnull=True).count() == 2
    assert not AuditLog.objects.filter(action="api_token.revoke_all").exists()


def test_an_admin_revokes_anyones_tokens(cast):
    token_pair_obtain(user=cast.supervisor_y)
    url = reverse("api:user-tokens-revoke", args=[cast.supervisor_y.pk])
    assert _bearer(cast.admin).post(url).json() == {"revoked": 2}


def test_the_tokens_page_lists_the_team_and_revokes_from_a_button(client, cast):
    token_pair_obtain(user=cast.collector_a)
    client.force_login(cast.supervisor_x)
    page = client.get(reverse("token-list"))
    assert page.status_code == 200
    listed = [u.username for u in page.context["users"]]
    assert "collector_a" in listed and "collector_b" not in listed
    response = client.post(reverse("token-revoke-user", args=[cast.collector_a.pk]))
    assert response.status_code == 302 and response.url == reverse("token-list")
    assert not ApiToken.objects.filter(user=cast.collector_a, revoked_at__isnull=True).exists()
    assert AuditLog.objects.filter(action="api_token.revoke_all", actor=cast.supervisor_x).exists()


def test_the_tokens_page_is_for_supervisors_and_admins_only(client, cast):
    client.force_login(cast.collector_a)
    assert client.get(reverse("token-list")).status_code == 403
    client.force_login(cast.supervisor_y)
    assert client.post(reverse("token-revoke-user", args=[cast.collector_a.pk])).status_code == 404
    assert client.get(reverse("token-revoke-user", args=[cast.collector_a.pk])).status_code == 405


def test_the_tokens_page_reads_in_a_fixed_number_of_queries(client, cast, django_assert_max_num_queries):
    from tests.factories import UserFactory

    for i in range(15):
        member = UserFactory(username=f"collector_extra_{i}", team=cast.team_x)
        token_pair_obtain(user=member)
    client.force_login(cast.supervisor_x)
    with django_assert_max_num_queries(8):
        page = client.get(reverse("token-list"))
    assert page.status_code == 200 and len(page.context["users"]) >= 16
    assert page.content.decode().count("Revoke all tokens") >= 16


def test_the_tokens_page_speaks_chinese(client, cast):
    client.force_login(cast.supervisor_x)
    page = client.get(reverse("token-list"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "吊销全部令牌" in page or "API 令牌" in page
