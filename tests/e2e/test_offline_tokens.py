"""The offline outbox across a token refresh, in a real browser: the session ends and the access token
expires while a visit waits on the phone; the outbox refreshes its tokens on the 401 and the visit is
recorded once."""

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from collections_app.models import AuditLog
from credentials.models import ApiToken
from tests.e2e.test_offline import _png, _ready_offline, visit_case  # noqa: F401
from visits.models import Visit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("field_daytime", "private_media")]


def _capture(page, context, case, notes: str, *, before_submit=None) -> None:
    page.goto(f"/cases/{case.pk}/visits/new/")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    context.set_offline(True)
    page.wait_for_selector(".js-net-status[data-online='false']")
    page.check("input[name=identity_confirmed]")
    page.check("input[name=met][value=borrower]")
    page.select_option("select[name=outcome]", "other")  # the case stays in the visit stage
    page.fill("textarea[name=notes]", notes)
    page.set_input_files("input[name=photos]", files=[_png()])
    if before_submit:
        before_submit()
    page.click("form[data-offline-outbox] button[type=submit]")
    page.wait_for_selector(".js-queued")


def test_a_waiting_visit_is_sent_after_the_outbox_refreshes_an_expired_token(phone, visit_case, cast):  # noqa: F811
    page = phone.new_page()
    _ready_offline(page)
    _capture(page, phone, visit_case, "First visit (offline).")
    phone.set_offline(False)
    page.wait_for_selector(".js-net-status[data-online='true'][data-waiting='0']")
    # The first sync got the phone a token pair from its session and sent the visit with it.
    assert Visit.objects.count() == 1
    assert ApiToken.objects.filter(user=cast.collector_a, kind="access").count() == 1

    def session_ends_and_access_expires():
        Session.objects.all().delete()
        ApiToken.objects.filter(kind="access").update(expires_at=timezone.now() - dt.timedelta(minutes=1))

    _capture(page, phone, visit_case, "Second visit (offline).", before_submit=session_ends_and_access_expires)
    phone.set_offline(False)
    page.wait_for_selector(".js-net-status[data-online='true'][data-waiting='0']", timeout=20_000)
    notes = sorted(Visit.objects.values_list("notes", flat=True))
    assert notes == ["First visit (offline).", "Second visit (offline)."]
    assert Visit.objects.get(notes__startswith="Second").collector == cast.collector_a
    assert AuditLog.objects.filter(action="api_token.refresh", actor=cast.collector_a).count() == 1
    assert ApiToken.objects.filter(user=cast.collector_a, kind="refresh", used_at__isnull=False).count() == 1

    # Signing out signs the phone's tokens out too.
    # (The phone's navbar is collapsed: submit the form as its button would.)
    page.evaluate("() => { setTimeout(() => document.querySelector(\"form[action$='/logout/']\").requestSubmit()); }")
    page.wait_for_url("**/login/**")
    for _ in range(50):
        if not ApiToken.objects.filter(user=cast.collector_a).live().exists():
            break
        page.wait_for_timeout(100)
    assert not ApiToken.objects.filter(user=cast.collector_a).live().exists()
    assert page.evaluate("() => Object.keys(localStorage).filter((k) => k.startsWith('doorstep-outbox-tokens'))") == []
