import json

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_manifest_is_json_starting_at_today(client, cast):
    assert Client().get("/manifest.webmanifest").status_code == 302  # every page needs a login
    client.force_login(cast.collector_a)
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200 and response["Content-Type"] == "application/manifest+json"
    data = json.loads(response.content)
    assert data["start_url"] == reverse("today") and data["scope"] == "/" and data["display"] == "standalone"
    sizes = {icon["sizes"] for icon in data["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in data["icons"]:
        assert finders.find(icon["src"].removeprefix("/static/")), icon


def test_service_worker_is_served_at_the_root_uncached_with_its_precache_list(client, cast):
    client.force_login(cast.collector_a)
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/" and "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    assert body.startswith("self.DOORSTEP_SW = ")
    config = json.loads(body.split("\n", 1)[0].removeprefix("self.DOORSTEP_SW = ").rstrip(";"))
    assert "/static/js/offline.js" in config["precache"] and config["todayPath"] == "/today/"
    assert "/sync/" in config["never"] and config["loginPath"] == reverse("login")
    assert client.post("/sw.js").status_code == 405


def test_every_page_carries_the_manifest_badge_and_offline_script(client, cast):
    client.force_login(cast.collector_a)
    page = client.get(reverse("case-list")).content.decode()
    assert 'rel="manifest"' in page and "js/offline.js" in page and "js-net-status" in page
    assert "js-outbox" in page  # collectors have an outbox
    client.force_login(cast.supervisor_x)
    page = client.get(reverse("case-list")).content.decode()
    assert "js-net-status" in page and "js-outbox" not in page


def test_visit_form_is_marked_for_the_outbox(client, cast, planned_case):
    case = planned_case()
    client.force_login(cast.collector_a)
    page = client.get(reverse("visit-create", args=[case.pk])).content.decode()
    assert "data-offline-outbox" in page and f'data-case="{case.pk}"' in page
