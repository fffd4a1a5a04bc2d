"""The audit trail refuses TRUNCATE too, and lets only the hash chain's sealing touch a row.

The row trigger now lets one UPDATE through: filling the chain columns of a row not yet sealed, with every
other column unchanged (collections_app.chain). A statement trigger refuses TRUNCATE, which the row trigger
never sees. A database may opt out of the TRUNCATE refusal with ``ALTER DATABASE … SET
doorstep.allow_audit_truncate = 'on'``: only the test databases do, so that tests can flush them. On SQLite
this migration does nothing.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION doorstep_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.chain_hash = '' AND NEW.chain_hash <> ''
       AND (to_jsonb(NEW) - 'chain_seq' - 'prev_hash' - 'chain_hash')
           = (to_jsonb(OLD) - 'chain_seq' - 'prev_hash' - 'chain_hash') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'collections_app_auditlog is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION doorstep_audit_no_truncate() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('doorstep.allow_audit_truncate', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'collections_app_auditlog is append-only: TRUNCATE refused'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS auditlog_no_truncate ON collections_app_auditlog;
CREATE TRIGGER auditlog_no_truncate
    BEFORE TRUNCATE ON collections_app_auditlog
    FOR EACH STATEMENT EXECUTE FUNCTION doorstep_audit_no_truncate();
"""

DROP = """
DROP TRIGGER IF EXISTS auditlog_no_truncate ON collections_app_auditlog;
DROP FUNCTION IF EXISTS doorstep_audit_no_truncate();
CREATE OR REPLACE FUNCTION doorstep_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'collections_app_auditlog is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # no params: the % in RAISE is literal

    return run


class Migration(migrations.Migration):
    dependencies = [("collections_app", "0015_event_and_audit_hash_chain")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP), elidable=False)]
