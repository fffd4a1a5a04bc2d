"""Notifications are shown in their reader's language: created by the sweep (or one by one) while English is
active, read in Chinese by a Chinese reader and in English by an English one, dates and amounts formatted for
each; a row without a template, or whose values no longer fit it, shows its stored message."""

# ruff: noqa: RUF001  -- the expected Chinese texts use Chinese (full-width) punctuation, as the catalogue does.

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import translation

from collections_app.models import Notification
from repayment.models import FollowUpCheck, RepaymentPlan
from repayment.services import followup_evaluate, payment_record, plan_propose, promise_create
from repayment.services.followups import followups_sweep_all
from tests.factories import case_walked_to

pytestmark = pytest.mark.django_db
D = Decimal
SH = ZoneInfo("Asia/Shanghai")
DUE = dt.date(2026, 3, 5)  # grace 3: the reminder is due on 3 March 09:00, the promise's check on 9 March
REMINDED, BROKEN, CARED = (
    dt.datetime(2026, 3, 3, 9, tzinfo=SH),
    dt.datetime(2026, 3, 9, tzinfo=SH),
    dt.datetime(2026, 4, 2, 10, tzinfo=SH),  # past the cured case's care revisit (1 April)
)


@pytest.fixture(autouse=True)
def _language_restored():
    # LocaleMiddleware leaves the language of a test client's request active in the thread afterwards.
    with translation.override(django_settings.LANGUAGE_CODE):
        yield


def _evaluate(path: str, now: dt.datetime) -> None:
    if path == "sweep":
        followups_sweep_all(now=now)
        return
    due = FollowUpCheck.objects.filter(status=FollowUpCheck.Status.PENDING, due_at__lte=now).order_by("due_at", "id")
    for check_id in list(due.values_list("id", flat=True)):
        followup_evaluate(check_id=check_id, now=now)


@pytest.fixture(params=["sweep", "one_by_one"])
def notes(request, cast, time_machine, settings):
    """The five kinds of notification, created while English is active: a reminder and (the promise broken)
    a revisit for collector A and an alert for supervisor X on one case, a care revisit on a cured case, and
    a plan awaiting supervisor X's approval on a third."""
    settings.REPAYMENT_BROKEN_PROMISES_ALERT = 1
    with translation.override("en"):
        time_machine.move_to(dt.datetime(2026, 3, 2, 10, tzinfo=SH), tick=False)
        promised, cured, planned = case_walked_to(cast), case_walked_to(cast), case_walked_to(cast)
        promise_create(case=promised, actor=cast.collector_a, amount=D("1234.50"), due_date=DUE, grace_days=3)
        payment_record(
            case=cured, actor=cast.collector_a, amount=D("5000.00"), paid_on=dt.date(2026, 3, 2), channel="cash"
        )
        plan_propose(
            case=planned,
            actor=cast.collector_a,
            kind=RepaymentPlan.Kind.INSTALMENTS,
            base_amount=D("5000.00"),
            instalment_count=24,  # past the term threshold: the supervisor must approve it
            first_due_date=dt.date(2026, 3, 20),
        )
        for now in (REMINDED, BROKEN, CARED):
            time_machine.move_to(now, tick=False)
            _evaluate(request.param, now)
    found = {note.kind: note for note in Notification.objects.all()}
    assert sorted(found) == ["broken_promises", "care_revisit", "plan_approval", "reminder", "revisit"]
    return found, promised, cured, planned


def _chinese(promised, cured, planned) -> dict[str, str]:
    account_no = promised.account.account_no
    return {
        "reminder": f"案件 #{promised.pk}：¥1,234.50 将于 2026年3月5日 到期。",
        "revisit": f"案件 #{promised.pk}：2026年3月5日 到期的 ¥1,234.50 承诺还款已违约，请再次走访借款人。",
        "broken_promises": f"账户 {account_no}（案件 #{promised.pk}）已有 1 次承诺违约。",
        "care_revisit": f"案件 #{cured.pk} 已回正：请安排关怀回访。",
        "plan_approval": f"案件 #{planned.pk}：一项金额为 ¥5,000.00 的分期方案等待您审批。",
    }


def _english(promised, cured, planned) -> dict[str, str]:
    account_no = promised.account.account_no
    return {
        "reminder": f"Case #{promised.pk}: ¥1,234.50 is due on March 5, 2026.",
        "revisit": f"Case #{promised.pk}: promise of ¥1,234.50 due March 5, 2026 was broken; revisit the borrower.",
        "broken_promises": f"Account {account_no} (case #{promised.pk}) has 1 broken promises.",
        "care_revisit": f"Case #{cured.pk} was cured: time for a care revisit.",
        "plan_approval": f"Case #{planned.pk}: a plan of ¥5,000.00 (Instalments) awaits your approval.",
    }


def test_notifications_created_in_english_are_shown_in_chinese_to_a_chinese_reader(notes):
    found, *cases = notes
    with translation.override("zh-hans"):
        shown = {kind: note.text for kind, note in found.items()}
    assert shown == _chinese(*cases)
    # What was stored is the project's language, as before: the fallback for rows without a template.
    promised = cases[0]
    assert found["reminder"].message == f"Case #{promised.pk}: 1234.50 is due on 2026-03-05."


def test_the_same_notifications_are_shown_in_english_to_an_english_reader(notes):
    found, *cases = notes
    with translation.override("en"):
        shown = {kind: note.text for kind, note in found.items()}
    assert shown == _english(*cases)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_notification_list_page_is_in_the_readers_language(notes, client, cast, language):
    """The language as ``LocaleMiddleware`` picks it: the switcher's cookie."""
    _found, *cases = notes
    expected = (_chinese if language == "zh-hans" else _english)(*cases)
    other = (_english if language == "zh-hans" else _chinese)(*cases)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    for user, kinds in (
        (cast.collector_a, ["reminder", "revisit", "care_revisit"]),
        (cast.supervisor_x, ["broken_promises", "plan_approval"]),
    ):
        client.force_login(user)
        html = client.get(reverse("notification-list")).content.decode()
        for kind in kinds:
            assert expected[kind] in html
            assert other[kind] not in html


def test_accept_language_of_a_chinese_browser_shows_chinese(notes, client, cast):
    _found, *cases = notes
    client.force_login(cast.collector_a)
    html = client.get(reverse("notification-list"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert _chinese(*cases)["reminder"] in html


def test_a_row_without_a_template_shows_its_message(cast, client):
    note = Notification.objects.create(recipient=cast.collector_a, kind="reminder", message="Case #7: 10.00 is due.")
    with translation.override("zh-hans"):
        assert note.text == "Case #7: 10.00 is due."
    client.force_login(cast.collector_a)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert "Case #7: 10.00 is due." in client.get(reverse("notification-list")).content.decode()


REMINDER = "Case #%(case)s: %(amount)s is due on %(date)s."
AMOUNT = {"money": "10.00", "currency": "CNY"}


@pytest.mark.parametrize(
    ("template", "params"),
    [
        (REMINDER, {"case": 7, "amount": AMOUNT}),  # a value missing
        (REMINDER, {"case": 7, "amount": AMOUNT, "date": {"date": "5 March"}}),  # not an ISO date
        (REMINDER, {"case": 7, "amount": {"money": "ten"}, "date": {"date": "2026-03-05"}}),  # not an amount
        (REMINDER, {"case": 7, "amount": AMOUNT, "date": {"when": "2026-03-05"}}),  # an unknown tag
        (REMINDER, ["7", "10.00", "2026-03-05"]),  # not a mapping
        ("Case #%(case)d", {"case": "seven"}),  # a value of the wrong type
        ("Case #%(case)s: %(kind)s", {"case": 7, "kind": {"choice": "repayment.RepaymentPlan.kind", "value": "gone"}}),
        ("Case #%(case)s: %(kind)s", {"case": 7, "kind": {"choice": "repayment.Nothing.kind", "value": "x"}}),
        ("Case #%(case)s: %(reason)s", {"case": 7, "reason": {"template": "%(x)s", "params": {}}}),
    ],
)
def test_a_row_whose_values_no_longer_fit_its_template_shows_its_message(cast, client, template, params):
    note = Notification.objects.create(
        recipient=cast.collector_a, kind="reminder", message="stored text", template=template, params=params
    )
    with translation.override("zh-hans"):
        assert note.text == "stored text"
    client.force_login(cast.collector_a)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.get(reverse("notification-list"))
    assert response.status_code == 200
    assert "stored text" in response.content.decode()
