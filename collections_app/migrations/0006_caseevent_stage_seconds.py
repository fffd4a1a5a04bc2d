"""``CaseEvent.stage_seconds``: the length of the stay a transition ends (README, "Dashboard").

The dashboard's average days per stage used to find, for every transition in the period, the event
that entered the stage with a correlated subquery (2.4 M lookups at 1M accounts, ~10 s). Now
``case_transition`` records the stay's length on the event, and the dashboard averages the column
with one grouped query served by ``event_kind_time_idx`` (kind, created_at).

The back-fill gives existing transitions the time since the case's previous ``opened``/``transition``
event when that event entered the stage being left: one set-based ``UPDATE … FROM`` with ``LAG`` on
PostgreSQL, a plain loop elsewhere (SQLite development databases are small).
"""

from django.db import migrations, models

BACKFILL = """
UPDATE collections_app_caseevent AS e
SET stage_seconds = GREATEST(0, FLOOR(EXTRACT(EPOCH FROM e.created_at - s.entered_at)))::integer
FROM (
    SELECT id,
           LAG(created_at) OVER w AS entered_at,
           LAG(to_stage) OVER w AS entered_stage
    FROM collections_app_caseevent
    WHERE kind IN ('opened', 'transition')
    WINDOW w AS (PARTITION BY case_id ORDER BY created_at, id)
) AS s
WHERE e.id = s.id
  AND e.kind = 'transition'
  AND e.stage_seconds IS NULL
  AND s.entered_at IS NOT NULL
  AND s.entered_stage = e.from_stage
"""


def backfill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKFILL)
        return
    CaseEvent = apps.get_model("collections_app", "CaseEvent")
    events = CaseEvent.objects.filter(kind__in=("opened", "transition")).order_by("case_id", "created_at", "id")
    previous, changed = None, []
    for event in events.iterator(chunk_size=2000):
        if (
            event.kind == "transition"
            and event.stage_seconds is None
            and previous is not None
            and previous.case_id == event.case_id
            and previous.to_stage == event.from_stage
        ):
            event.stage_seconds = max(0, int((event.created_at - previous.created_at).total_seconds()))
            changed.append(event)
        previous = event
    CaseEvent.objects.bulk_update(changed, ["stage_seconds"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("collections_app", "0005_bench_indexes")]

    operations = [
        migrations.AddField(
            model_name="caseevent",
            name="stage_seconds",
            field=models.PositiveIntegerField(blank=True, editable=False, null=True, verbose_name="seconds in stage"),
        ),
        migrations.AddIndex(
            model_name="caseevent",
            index=models.Index(fields=["kind", "created_at"], name="event_kind_time_idx"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
