"""Masked by default; the "Show" action reveals the full value to whoever may see the case, audited."""

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from collections_app.models import AuditLog

pytestmark = pytest.mark.django_db

NATIONAL_ID = "32100219900101123X"
PHONE = "13812345678"


def _url(borrower, field):
    return reverse("pii-reveal", args=[borrower.pk, field])


@pytest.fixture
def borrower(case_a):
    return case_a.account.borrower


def test_collector_reveals_the_national_id_of_their_case_and_it_is_audited(client, cast, borrower):
    client.force_login(cast.collector_a)
    response = client.post(_url(borrower, "national_id"), REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    assert NATIONAL_ID in response.content.decode()
    row = AuditLog.objects.get(action="pii.reveal")
    assert (row.actor, row.object_type, row.object_id) == (
        cast.collector_a,
        "collections_app.borrower",
        str(borrower.pk),
    )
    assert row.changes == {"field": "national_id"}
    assert row.ip_address == "10.1.2.3"
    assert "no-store" in response["Cache-Control"]


def test_phone_reveal_names_the_phone(client, cast, borrower):
    phone = borrower.phones.get()
    client.force_login(cast.supervisor_x)
    response = client.post(_url(borrower, f"phone:{phone.pk}"))
    assert response.status_code == 200 and PHONE in response.content.decode()
    row = AuditLog.objects.get(action="pii.reveal")
    assert (row.object_type, row.object_id) == ("collections_app.borrowerphone", str(phone.pk))


def test_manager_may_reveal(client, cast, borrower):
    client.force_login(cast.manager)
    assert client.post(_url(borrower, "national_id")).status_code == 200


@pytest.mark.parametrize("who", ["collector_b", "supervisor_y", "collector_a2"])
def test_reveal_is_404_outside_the_users_cases_and_nothing_is_revealed(client, cast, borrower, who):
    client.force_login(getattr(cast, who))
    response = client.post(_url(borrower, "national_id"))
    assert response.status_code == 404
    assert NATIONAL_ID not in response.content.decode()
    assert not AuditLog.objects.filter(action="pii.reveal").exists()
    refused = AuditLog.objects.get(action="access.refused")
    assert refused.actor == getattr(cast, who) and refused.changes["status"] == 404


def test_anothers_phone_or_an_unknown_field_is_404(client, cast, borrower):
    from tests.factories import BorrowerFactory

    other_phone = BorrowerFactory().phones.get()
    client.force_login(cast.collector_a)
    assert client.post(_url(borrower, f"phone:{other_phone.pk}")).status_code == 404
    assert client.post(_url(borrower, "employer")).status_code == 404
    assert client.post(_url(borrower, "phone:abc")).status_code == 404
    assert client.post(reverse("pii-reveal", args=[999999, "national_id"])).status_code == 404
    assert not AuditLog.objects.filter(action="pii.reveal").exists()


def test_reveal_needs_post(client, cast, borrower):
    client.force_login(cast.collector_a)
    assert client.get(_url(borrower, "national_id")).status_code == 405


def test_the_include_shows_the_masked_value_with_a_show_button(borrower):
    html = render_to_string(
        "includes/pii_value.html",
        {"value_masked": borrower.national_id_masked, "borrower": borrower, "field": "national_id"},
    )
    assert "3210**********123X" in html and NATIONAL_ID not in html
    assert f'hx-post="{_url(borrower, "national_id")}"' in html
    bare = render_to_string("includes/pii_value.html", {"value_masked": "138****5678"})
    assert "138****5678" in bare and "hx-post" not in bare
