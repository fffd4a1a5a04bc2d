"""Shared set-up for the field-work tests: a daytime clock, a private media root, photos, form data."""

import datetime as dt
import io
import os
import uuid
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Tuesday morning in the borrower's time zone: outside the quiet hours (22:00 to 08:00).
DAYTIME = dt.datetime(2026, 3, 10, 10, 30, tzinfo=SHANGHAI)
QUIET = dt.datetime(2026, 3, 10, 23, 15, tzinfo=SHANGHAI)


def local_input(moment: dt.datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def image_upload(name="photo.png", fmt="PNG", size=(24, 16), content_type="image/png", noise=False):
    buffer = io.BytesIO()
    if noise:  # incompressible, so the file really is as large as its pixels
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, (200, 30, 30))
    image.save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)


def visit_data(**overrides) -> dict:
    data = {
        "idempotency_key": str(uuid.uuid4()),
        "geo_status": "ok",
        "lat": "31.298900",
        "lng": "120.585300",
        "accuracy_m": "12.5",
        "checked_in_at": local_input(DAYTIME - dt.timedelta(minutes=40)),
        "checked_out_at": local_input(DAYTIME - dt.timedelta(minutes=5)),
        "identity_confirmed": "on",
        "met": "borrower",
        "monthly_income": "8000.00",
        "monthly_expenses": "5000",
        "other_debt_payments": "1200.50",
        "overdue_reason": "income_loss",
        "overdue_reason_text": "Lost a factory job in January",
        "attitude": "cooperative",
        "outcome": "promised",
        "notes": "Will pay 2000 on Friday.",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def plan_data(home, **overrides) -> dict:
    data = {
        "contact_verified": "on",
        "overdue_reason": "Lost job",
        "history_reviewed": "on",
        "talking_points": "Ask about income; offer instalments.",
        "planned_at": local_input(DAYTIME + dt.timedelta(days=1)),
        "address": str(home.pk),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
