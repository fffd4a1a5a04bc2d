"""Native date pickers open with their default date in every language: the value is ISO, the
only format ``<input type="date">`` reads (a Chinese 2026/12/11 would leave the field empty)."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from collections_app.models import Stage

DATE_INPUT = re.compile(r'<input type="date" name="(?P<name>[\w-]+)" value="(?P<value>[^"]*)"')


def _date_values(html: str) -> dict[str, str]:
    return {m["name"]: m["value"] for m in DATE_INPUT.finditer(html)}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_negotiation_and_payment_dates_open_with_an_iso_default(client, cast, case_in_stage, language):
    case = case_in_stage(Stage.NEGOTIATION)
    client.force_login(cast.collector_a)
    today = timezone.localdate()

    negotiate = client.get(reverse("case-negotiate", args=[case.pk]), HTTP_ACCEPT_LANGUAGE=language)
    payment = client.get(reverse("payment-create", args=[case.pk]), HTTP_ACCEPT_LANGUAGE=language)

    assert negotiate.status_code == payment.status_code == 200
    values = {**_date_values(negotiate.content.decode()), **_date_values(payment.content.decode())}
    assert {"promise-due_date", "plan-first_due_date", "paid_on"} <= values.keys(), values
    for name in ("promise-due_date", "plan-first_due_date", "paid_on"):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", values[name]), (name, values[name])
    assert values["paid_on"] == today.isoformat()
