"""A collector's cases newest first by index; single-column indexes that composite ones lead with go."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("collections_app", "0009_screening_product_index"),
    ]

    # The composite index first, so a collector's cases are never without one while the old goes.
    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["assigned_collector", "-id"], name="case_collector_id_idx"),
        ),
        migrations.AlterField(
            model_name="case",
            name="assigned_collector",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="assigned_cases",
                to=settings.AUTH_USER_MODEL,
                verbose_name="collector",
            ),
        ),
        migrations.AlterField(
            model_name="caseevent",
            name="case",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="collections_app.case",
            ),
        ),
    ]
