"""The language follows the browser and the switcher; pages, API errors, money and dates follow the language."""

import datetime as dt
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from collections_app.templatetags.doorstep import money

pytestmark = pytest.mark.django_db


def _html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_accept_language_zh_hans_picks_chinese(client, cast):
    client.force_login(cast.collector_a)
    html = _html(client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert '<html lang="zh-hans">' in html
    assert "首页" in html and "退出登录" in html
    assert "Log out" not in html


def test_a_chinese_browser_asking_for_zh_cn_gets_simplified_chinese(client, cast):
    client.force_login(cast.collector_a)
    html = _html(client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.8"))
    assert '<html lang="zh-hans">' in html
    assert "首页" in html


def test_an_english_browser_stays_english(client, cast):
    client.force_login(cast.collector_a)
    html = _html(client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9"))
    assert '<html lang="en">' in html
    assert "Log out" in html and "退出登录" not in html


def test_the_switcher_overrides_the_browser(client, cast):
    client.force_login(cast.collector_a)
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/cases/"})
    assert response.status_code == 302 and response["Location"] == "/cases/"
    assert "我的案件" in _html(client.get("/cases/", HTTP_ACCEPT_LANGUAGE="en"))

    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = _html(client.get("/cases/", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert "My cases" in html and "我的案件" not in html


def test_the_switcher_works_on_the_login_page(client):
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/accounts/login/"})
    html = _html(client.get(reverse("login")))
    assert "登录 Doorstep" in html


def test_case_page_is_chinese_with_chinese_money_and_dates(client, cast, case_a):
    account = case_a.account
    account.overdue_amount = Decimal("12345.60")
    account.save(update_fields=["overdue_amount"])
    case_a.next_action_due = dt.datetime(2026, 3, 5, 2, 0, tzinfo=dt.UTC)
    case_a.save(update_fields=["next_action_due"])
    client.force_login(cast.collector_a)

    html = _html(client.get(reverse("case-detail", args=[case_a.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert "时间线" in html and "借款人档案" in html
    assert "客户信息筛选" in html  # the stage's name
    assert "¥12,345.60" in html
    assert "2026年3月5日 10:00" in html  # Asia/Shanghai, the branch's default zone

    html = _html(client.get(reverse("case-detail", args=[case_a.pk]), HTTP_ACCEPT_LANGUAGE="en"))
    assert "Timeline" in html and "¥12,345.60" in html
    assert "03/05/2026 10 a.m." in html


def test_screening_and_dashboard_are_chinese_for_a_supervisor(client, cast, case_a):
    client.force_login(cast.supervisor_x)
    assert "没有在办案件的逾期账户" in _html(client.get(reverse("screening"), HTTP_ACCEPT_LANGUAGE="zh-hans"))
    html = _html(client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert "回收仪表板" in html and "五级分类" in html and "迁徙率" in html


def test_form_labels_choices_and_messages_are_chinese(client, cast, case_in_stage):
    case = case_in_stage("preparation")
    client.force_login(cast.collector_a)
    html = _html(client.get(reverse("case-detail", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert "走访准备" in html  # stage choice
    response = client.post(
        reverse("case-transition", args=[case.pk]),
        {"target": "visit"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
        follow=True,
    )
    # The checklist is not done: the refusal (a DoorstepError) is shown in Chinese.
    assert "请先完成走访准备检查清单" in response.content.decode()


def test_api_errors_follow_the_language(client, cast, case_a):
    client.force_login(cast.collector_a)
    url = f"/api/v1/cases/{case_a.pk}/assign/"
    body = {"collector": cast.collector_a2.pk, "reason": "x"}
    response = client.post(url, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 403
    assert response.json()["detail"] == "只有主管和管理员可以执行此操作。"
    response = client.post(url, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.json()["detail"] == "Only supervisors and administrators can do this."


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_money_is_grouped_by_thousands_in_both_languages(language):
    with translation.override(language):
        assert money("1234.5") == "¥1,234.50"
        assert money(Decimal("-9876543.21")) == "-¥9,876,543.21"
        assert money("0") == "¥0.00"
        assert money("12.3", "USD") == "$12.30"
        rendered = Template("{% load doorstep %}{{ amount|money }}").render(Context({"amount": Decimal("1234.50")}))
        assert rendered == "¥1,234.50"


def test_dates_use_the_languages_format():
    template = Template('{{ day|date }} · {{ day|date:"SHORT_DATE_FORMAT" }}')
    context = Context({"day": dt.date(2026, 3, 5)})
    with translation.override("zh-hans"):
        assert template.render(context) == "2026年3月5日 · 2026年3月5日"
    with translation.override("en"):
        assert template.render(context) == "March 5, 2026 · 03/05/2026"


def test_javascript_catalogue_is_served_to_anyone_in_the_language(client):
    response = client.get(reverse("javascript-catalog"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert "javascript" in response["Content-Type"]
    body = response.content.decode()
    assert "django.gettext" in body and "interpolate" in body
    assert "Y\\u5e74n\\u6708j\\u65e5" in body or "Y年n月j日" in body  # zh-hans DATE_FORMAT


def test_base_page_loads_the_javascript_catalogue_before_the_app_scripts(client, cast):
    client.force_login(cast.collector_a)
    html = _html(client.get("/"))
    catalogue = html.index(f'<script src="{reverse("javascript-catalog")}"></script>')
    assert catalogue < html.index("js/app.js")
