"""Import jobs carry a heartbeat and an attempt count; notifications their untranslated template and values."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("collections_app", "0011_day_tally_closures_plan_ends"),
    ]

    operations = [
        migrations.AddField(
            model_name="importjob",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="attempts"),
        ),
        migrations.AddField(
            model_name="importjob",
            name="progress_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="last progress"),
        ),
        migrations.AddField(
            model_name="notification",
            name="params",
            field=models.JSONField(blank=True, default=dict, verbose_name="message values"),
        ),
        migrations.AddField(
            model_name="notification",
            name="template",
            field=models.CharField(blank=True, max_length=300, verbose_name="message template"),
        ),
    ]
