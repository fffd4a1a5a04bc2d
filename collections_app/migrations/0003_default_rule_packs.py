import datetime as dt

from django.db import migrations

PACKS = [
    {
        "code": "CN",
        "name": "China (CBA guideline 2026, credit-card measures)",
        "quiet_start": dt.time(22, 0),
        "quiet_end": dt.time(8, 0),
        "max_unanswered_attempts": 6,
        "attempts_window_days": 1,
        "attempts_per_number": True,
        "third_party_after_failed_attempts": 3,
        "retention_years": 2,
    },
    {
        "code": "US",
        "name": "United States (Regulation F)",
        "quiet_start": dt.time(21, 0),
        "quiet_end": dt.time(8, 0),
        "max_unanswered_attempts": 7,
        "attempts_window_days": 7,
        "attempts_per_number": False,
        "third_party_after_failed_attempts": 3,
        "retention_years": 3,
    },
]


def create(apps, schema_editor):
    RulePack = apps.get_model("collections_app", "RulePack")
    for pack in PACKS:
        RulePack.objects.update_or_create(code=pack["code"], defaults=pack)


class Migration(migrations.Migration):
    dependencies = [("collections_app", "0002_screening_rules_notifications_snapshots_imports")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
