"""Case closures and plan ends join the day tally. Facts recorded before the watermark were never summed
for them, so the day tally starts over: with no watermark the dashboard reads every fact live, and the
next hourly roll (``roll_day_tally``) sums the whole history again, the new metrics with it."""

from django.db import migrations, models


def start_over(apps, schema_editor):
    apps.get_model("collections_app", "DayTally").objects.all().delete()
    apps.get_model("collections_app", "TallyMark").objects.filter(name="day").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("collections_app", "0010_case_collector_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="daytally",
            name="metric",
            field=models.CharField(
                choices=[
                    ("stay", "stage stays"),
                    ("visit", "visits"),
                    ("contact", "contact attempts"),
                    ("payment", "payments"),
                    ("closure", "case closures"),
                    ("plan_end", "plan ends"),
                ],
                max_length=10,
                verbose_name="metric",
            ),
        ),
        migrations.RunPython(start_over, start_over, elidable=True),
    ]
