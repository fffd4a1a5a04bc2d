"""Request bodies larger than the path allows are refused with 413 before anything reads them."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from collections_app.models import AuditLog, ImportJob
from collections_app.security import RequestSizeLimitMiddleware

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


@pytest.fixture(autouse=True)
def limits(settings):
    settings.DOORSTEP_MAX_REQUEST_BYTES = 1 * MB
    settings.DOORSTEP_IMPORT_MAX_BYTES = 3 * MB
    # A test client request leaves its language active in the thread: give the next test the default.
    with translation.override(settings.LANGUAGE_CODE):
        yield


class UnreadableBody:
    """A request stream that fails the test if anything reads it."""

    def read(self, *args, **kwargs):
        pytest.fail("the body of a refused request was read")

    readline = read

    def __iter__(self):
        self.read()


def test_an_oversized_body_is_refused_before_anything_reads_it():
    request = RequestFactory().post(reverse("login"), data=b"", content_type="application/octet-stream")
    request.META["CONTENT_LENGTH"] = str(MB + 1)
    request._stream = UnreadableBody()
    request.user = AnonymousUser()
    called = []
    response = RequestSizeLimitMiddleware(called.append)(request)
    assert response.status_code == 413 and called == []
    assert "1.0\xa0MB" in response.content.decode()


def test_the_login_page_refuses_an_oversized_upload_with_a_page_saying_why(client):
    body = b"x" * (MB + 1)
    response = client.post(reverse("login"), data=body, content_type="application/octet-stream")
    assert response.status_code == 413
    html = response.content.decode()
    assert 'data-testid="error-413"' in html and "Nothing was saved" in html
    assert not AuditLog.objects.filter(action__startswith="auth").exists()


def test_a_body_at_the_limit_goes_through(client, cast):
    client.force_login(cast.collector_a)
    response = client.post(reverse("home"), data=b"x" * MB, content_type="application/octet-stream")
    assert response.status_code != 413


def test_the_api_answers_413_in_json(client, cast):
    client.force_login(cast.supervisor_x)
    response = client.post("/api/v1/visits/", data=b"{" * (MB + 1), content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "too_large" and "MB" in response.json()["detail"]


def test_the_import_upload_takes_a_core_banking_file_larger_than_a_page_may_send(client, cast):
    client.force_login(cast.supervisor_x)
    big = b"x" * (2 * MB)
    assert client.post(reverse("home"), data=big, content_type="application/octet-stream").status_code == 413
    response = client.post(reverse("import-list"), data=big, content_type="application/octet-stream")
    assert response.status_code != 413  # the import view itself answers (here: no file in the form)
    over = client.post(reverse("import-list"), data=b"x" * (3 * MB + 1), content_type="application/octet-stream")
    assert over.status_code == 413 and not ImportJob.objects.exists()


def test_the_refusal_is_in_the_readers_language(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.post(reverse("login"), data=b"x" * (MB + 1), content_type="application/octet-stream")
    assert response.status_code == 413
    assert "无法发送" in response.content.decode()
