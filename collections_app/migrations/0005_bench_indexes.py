"""Indexes found by the million-account bench (README, "Performance").

``case_collector_open_due_idx``: "My cases" lists a collector's open cases, next action due first
(``next_action_due NULLS LAST, id``), 50 a page. Without it PostgreSQL fetches and sorts every open
case of the collector (~1,100 rows at 1M accounts, 44 ms); with it the page reads 50 index entries in
order, whatever the collector's load. Raw SQL with no model state: the index lives on PostgreSQL only
(SQLite plans these small lists fine) and ``Case.Meta`` stays as its owner wrote it.
"""

from django.db import migrations

CREATE = """
CREATE INDEX IF NOT EXISTS case_collector_open_due_idx
ON collections_app_case (assigned_collector_id, next_action_due ASC NULLS LAST, id)
WHERE NOT (stage = 'closed')
"""
DROP = "DROP INDEX IF EXISTS case_collector_open_due_idx"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("collections_app", "0004_audit_append_only")]

    operations = [migrations.RunPython(forwards, backwards)]
