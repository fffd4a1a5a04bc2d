"""Every case page renders for a case with no collector, for the supervisor and the manager."""

import pytest
from django.urls import reverse

from collections_app.services.cases import case_open
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def unassigned(cast):
    return case_open(account=AccountFactory(branch=cast.branch_a), actor=cast.supervisor_x, team=cast.team_x)


@pytest.mark.parametrize("who", ["supervisor_x", "manager"])
@pytest.mark.parametrize("page", ["case-detail", "case-negotiate", "case-list", "home"])
def test_pages_render_an_unassigned_case(client, cast, unassigned, who, page):
    client.force_login(getattr(cast, who))
    url = reverse(page) if page in ("case-list", "home") else reverse(page, args=[unassigned.pk])
    response = client.get(url)
    # The negotiation page is for those who act on the case; the manager reads only (403, never a 500).
    assert response.status_code == (403 if (who, page) == ("manager", "case-negotiate") else 200)
    if page == "case-detail":
        assert "unassigned" in response.content.decode()


def test_the_supervisor_opens_the_assign_page_of_an_unassigned_case(client, cast, unassigned):
    client.force_login(cast.supervisor_x)
    response = client.get(reverse("case-assign", args=[unassigned.pk]))
    assert response.status_code == 200 and "Assign case" in response.content.decode()
