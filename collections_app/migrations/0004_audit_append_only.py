"""The audit trail is append-only: on PostgreSQL a trigger refuses UPDATE and DELETE.

TRUNCATE stays possible on purpose: it needs table ownership (not granted to the app role in
production) and test databases are flushed with it. On SQLite this migration does nothing.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION doorstep_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'collections_app_auditlog is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS auditlog_append_only ON collections_app_auditlog;
CREATE TRIGGER auditlog_append_only
    BEFORE UPDATE OR DELETE ON collections_app_auditlog
    FOR EACH ROW EXECUTE FUNCTION doorstep_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS auditlog_append_only ON collections_app_auditlog;
DROP FUNCTION IF EXISTS doorstep_audit_append_only();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # no params: the % in RAISE is literal

    return run


class Migration(migrations.Migration):
    dependencies = [("collections_app", "0003_default_rule_packs")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP), elidable=False)]
