"""The menu offers each role the pages it may open, Assignments included for supervisors."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _menu(client, user) -> str:
    client.force_login(user)
    html = client.get(reverse("home")).content.decode()
    return html[html.index("<nav") : html.index("</nav>")]


def test_a_supervisor_reaches_assignments_from_the_menu(client, cast):
    assert f'href="{reverse("assignments")}"' in _menu(client, cast.supervisor_x)
    assert client.get(reverse("assignments")).status_code == 200


@pytest.mark.parametrize("who", ["collector_a", "manager"])
def test_roles_that_may_not_assign_do_not_see_it(client, cast, who):
    assert f'href="{reverse("assignments")}"' not in _menu(client, getattr(cast, who))
