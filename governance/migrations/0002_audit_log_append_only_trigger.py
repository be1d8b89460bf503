"""On PostgreSQL, a trigger refuses UPDATE and DELETE of audit log rows, whoever connects (the ORM
refuses them too: governance.models). SQLite has no such guard; the ORM's is tested on both."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION governance_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The audit log is append-only: its entries cannot be changed or deleted';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER governance_audit_append_only
    BEFORE UPDATE OR DELETE ON governance_auditentry
    FOR EACH ROW EXECUTE FUNCTION governance_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS governance_audit_append_only ON governance_auditentry;
DROP FUNCTION IF EXISTS governance_audit_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("governance", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
