"""A visit the server refuses keeps the photo the collector chose: held on the server, sent back by token."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from collections_app.models import Stage
from collections_app.services import uploads
from tests.visits.helpers import QUIET, image_upload, local_input, visit_data
from visits.models import Visit, VisitPhoto, VisitPlan

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="kept_photos" value="([^"]+)"')


@pytest.fixture
def visit_case(case_in_stage):
    return case_in_stage(Stage.VISIT)


def _post(client, case, **data):
    return client.post(reverse("visit-create", args=[case.pk]), visit_data(**data))


def _refused_in_quiet_hours(client, cast, case, time_machine):
    time_machine.move_to(QUIET, tick=True)
    client.force_login(cast.collector_a)
    checked_in = local_input(QUIET - dt.timedelta(minutes=10))
    response = _post(client, case, checked_in_at=checked_in, checked_out_at="", photos=[image_upload("door.png")])
    page = response.content.decode()
    assert response.status_code == 200 and "quiet-hours rule" in page
    return page, checked_in


def test_a_refused_visit_returns_with_the_photo_attached_and_the_next_submit_saves_it(
    client, cast, visit_case, time_machine, settings
):
    page, _checked_in = _refused_in_quiet_hours(client, cast, visit_case, time_machine)
    tokens = TOKEN.findall(page)
    assert len(tokens) == 1 and "door.png" in page and "checked" in page.split(tokens[0])[1][:40]
    assert not Visit.objects.exists()
    held = list((settings.MEDIA_ROOT / uploads.HELD_DIR).iterdir())
    assert len(held) == 1

    # The collector corrects the time (the borrower consented) and sends the form again without a file.
    VisitPlan.objects.filter(case=visit_case).update(consent_outside_hours=True)
    response = _post(client, visit_case, checked_in_at=_checked_in, checked_out_at="", kept_photos=tokens)
    assert response.status_code == 302
    photo = VisitPhoto.objects.get()
    assert photo.visit == Visit.objects.get() and photo.content_type == "image/png"
    assert list((settings.MEDIA_ROOT / uploads.HELD_DIR).iterdir()) == []


def test_a_photo_chosen_again_on_the_returned_form_is_added_to_the_kept_one(client, cast, visit_case, time_machine):
    page, checked_in = _refused_in_quiet_hours(client, cast, visit_case, time_machine)
    VisitPlan.objects.filter(case=visit_case).update(consent_outside_hours=True)
    response = _post(
        client,
        visit_case,
        checked_in_at=checked_in,
        checked_out_at="",
        kept_photos=TOKEN.findall(page),
        photos=[image_upload("gate.jpg", fmt="JPEG", content_type="image/jpeg")],
    )
    assert response.status_code == 302
    assert sorted(VisitPhoto.objects.values_list("content_type", flat=True)) == ["image/jpeg", "image/png"]


def test_an_unticked_kept_photo_is_left_out(client, cast, visit_case, time_machine):
    _page, checked_in = _refused_in_quiet_hours(client, cast, visit_case, time_machine)
    VisitPlan.objects.filter(case=visit_case).update(consent_outside_hours=True)
    assert _post(client, visit_case, checked_in_at=checked_in, checked_out_at="").status_code == 302
    assert not VisitPhoto.objects.exists()


def test_a_form_error_also_keeps_the_photo(client, cast, visit_case):
    client.force_login(cast.collector_a)
    response = _post(client, visit_case, outcome="", photos=[image_upload("door.png")])
    assert response.status_code == 200
    assert len(TOKEN.findall(response.content.decode())) == 1


def test_another_collectors_token_or_another_case_is_not_accepted(client, cast, visit_case, time_machine):
    page, checked_in = _refused_in_quiet_hours(client, cast, visit_case, time_machine)
    token = TOKEN.findall(page)[0]
    VisitPlan.objects.filter(case=visit_case).update(consent_outside_hours=True)
    assert uploads.held_upload_open(token, owner_id=cast.collector_b.pk, scope=f"visit:{visit_case.pk}") is None
    assert uploads.held_upload_open(token, owner_id=cast.collector_a.pk, scope=f"visit:{visit_case.pk + 1}") is None
    assert uploads.held_upload_open(token + "x", owner_id=cast.collector_a.pk, scope=f"visit:{visit_case.pk}") is None
    response = _post(client, visit_case, checked_in_at=checked_in, checked_out_at="", kept_photos=[token + "x"])
    assert response.status_code == 200 and not Visit.objects.exists()


def test_a_kept_photo_gone_from_the_server_asks_to_attach_it_again(client, cast, visit_case, time_machine, settings):
    page, checked_in = _refused_in_quiet_hours(client, cast, visit_case, time_machine)
    for path in (settings.MEDIA_ROOT / uploads.HELD_DIR).iterdir():
        path.unlink()
    VisitPlan.objects.filter(case=visit_case).update(consent_outside_hours=True)
    response = _post(client, visit_case, checked_in_at=checked_in, checked_out_at="", kept_photos=TOKEN.findall(page))
    assert response.status_code == 200 and "attach it again" in response.content.decode()
    assert not Visit.objects.exists()


def test_held_photos_older_than_a_day_are_swept(client, cast, visit_case, time_machine, settings):
    _refused_in_quiet_hours(client, cast, visit_case, time_machine)
    held = list((settings.MEDIA_ROOT / uploads.HELD_DIR).iterdir())
    # The file's own clock (the disk's, not the test's moved one) decides its age.
    written = dt.datetime.fromtimestamp(held[0].stat().st_mtime, tz=dt.UTC)
    assert uploads.orphans_remove(now=written + dt.timedelta(hours=23)) == []
    removed = uploads.orphans_remove(now=written + dt.timedelta(days=2))
    assert [f"{uploads.HELD_DIR}/{p.name}" for p in held] == removed
