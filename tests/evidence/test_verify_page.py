import pytest
from django.urls import reverse

from collections_app import chain
from collections_app.models import CaseEvent

pytestmark = pytest.mark.django_db

URL = reverse("evidence-verify")


@pytest.mark.parametrize("who", ["collector_a", "supervisor_x"])
def test_only_managers_and_admins_verify(client, cast, who):
    client.force_login(getattr(cast, who))
    assert client.get(URL).status_code == 403


def test_manager_sees_an_intact_case_and_then_the_first_broken_row(
    client, cast, visited_case, django_assert_max_num_queries
):
    chain.seal_cases([visited_case.pk])
    chain.seal_audit()
    client.force_login(cast.manager)
    with django_assert_max_num_queries(12):
        page = client.get(URL, {"case": visited_case.pk, "audit": "on"}).content.decode()
    assert f'data-chain-ok="case:{visited_case.pk}"' in page and 'data-chain-ok="audit"' in page
    event = CaseEvent.objects.filter(case=visited_case).order_by("chain_seq")[1]
    CaseEvent.objects.filter(pk=event.pk).update(payload={"edited": True})
    page = client.get(URL, {"case": visited_case.pk}).content.decode()
    assert f'data-chain-broken="case:{visited_case.pk}"' in page and f"First broken row: {event.pk}" in page


def test_unknown_case_and_wrong_method(client, cast):
    client.force_login(cast.manager)
    assert "No such case." in client.get(URL, {"case": 999999}).content.decode()
    assert client.get(URL, {"case": "x"}).status_code == 200
    assert client.post(URL).status_code == 405


def test_chinese_page(client, cast):
    client.force_login(cast.manager)
    page = client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "核验证据" in page
