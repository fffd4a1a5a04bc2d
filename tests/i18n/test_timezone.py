"""Each request runs in the signed-in user's branch time zone (default Asia/Shanghai)."""

import datetime as dt
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from collections_app.i18n import SESSION_KEY, BranchTimezoneMiddleware, user_timezone_name

pytestmark = pytest.mark.django_db


def _seen_zone(user, session=None) -> str:
    """The time zone name active inside the view for ``user``'s request."""
    seen = {}

    def view(request):
        seen["zone"] = timezone.get_current_timezone_name()
        return HttpResponse()

    request = RequestFactory().get("/")
    request.user = user
    request.session = session if session is not None else import_module(settings.SESSION_ENGINE).SessionStore()
    BranchTimezoneMiddleware(view)(request)
    return seen["zone"]


def test_a_collector_works_in_their_branchs_time_zone(cast):
    cast.branch_a.timezone = "Asia/Urumqi"
    cast.branch_a.save(update_fields=["timezone"])
    assert _seen_zone(cast.collector_a) == "Asia/Urumqi"
    assert _seen_zone(cast.collector_b) == "Asia/Shanghai"


def test_a_user_without_a_team_and_an_anonymous_visitor_get_the_default(cast, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    assert cast.manager.team_id is None
    assert _seen_zone(cast.manager) == "Asia/Shanghai"
    assert _seen_zone(AnonymousUser()) == "Asia/Shanghai"


def test_a_mistyped_branch_time_zone_falls_back_to_the_default(cast):
    cast.branch_a.timezone = "Asia/Atlantis"
    cast.branch_a.save(update_fields=["timezone"])
    assert user_timezone_name(cast.collector_a) == settings.TIME_ZONE
    assert _seen_zone(cast.collector_a) == settings.TIME_ZONE


def test_the_zone_is_remembered_in_the_session_without_a_query(cast, django_assert_num_queries):
    cast.branch_a.timezone = "Europe/London"
    cast.branch_a.save(update_fields=["timezone"])
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    with django_assert_num_queries(1):
        assert _seen_zone(cast.collector_a, session) == "Europe/London"
    assert session[SESSION_KEY] == [cast.team_x.pk, "Europe/London"]
    with django_assert_num_queries(0):
        assert _seen_zone(cast.collector_a, session) == "Europe/London"


def test_a_team_change_is_picked_up_at_the_next_request(cast):
    cast.branch_b.timezone = "Asia/Hong_Kong"
    cast.branch_b.save(update_fields=["timezone"])
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    assert _seen_zone(cast.collector_a, session) == "Asia/Shanghai"
    cast.collector_a.team = cast.team_y
    cast.collector_a.save(update_fields=["team"])
    assert _seen_zone(cast.collector_a, session) == "Asia/Hong_Kong"


def test_the_zone_does_not_leak_past_the_request(cast):
    cast.branch_a.timezone = "America/New_York"
    cast.branch_a.save(update_fields=["timezone"])
    _seen_zone(cast.collector_a)
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE


def test_pages_show_times_in_the_branchs_zone(client, cast, case_a):
    cast.branch_a.timezone = "America/New_York"
    cast.branch_a.save(update_fields=["timezone"])
    case_a.next_action_due = dt.datetime(2026, 3, 5, 2, 0, tzinfo=dt.UTC)
    case_a.save(update_fields=["next_action_due"])
    client.force_login(cast.collector_a)
    html = client.get(reverse("case-detail", args=[case_a.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "2026年3月4日 21:00" in html  # 02:00 UTC is 21:00 the evening before in New York (EST)
    assert "2026年3月5日 10:00" not in html

    client.force_login(cast.manager)  # no team: the default zone
    html = client.get(reverse("case-detail", args=[case_a.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "2026年3月5日 10:00" in html


def test_the_zone_is_looked_up_at_sign_in_so_pages_spend_no_query_on_it(client, cast, django_assert_num_queries):
    cast.branch_a.timezone = "Asia/Urumqi"
    cast.branch_a.save(update_fields=["timezone"])
    client.force_login(cast.collector_a)
    session = client.session
    assert session[SESSION_KEY] == [cast.team_x.pk, "Asia/Urumqi"]
    request = RequestFactory().get("/")
    request.user = cast.collector_a
    request.session = session
    with django_assert_num_queries(0):
        BranchTimezoneMiddleware(lambda request: HttpResponse())(request)
