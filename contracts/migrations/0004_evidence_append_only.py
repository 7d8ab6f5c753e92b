"""On PostgreSQL, signature events refuse UPDATE and DELETE in the database itself: not even SQL
typed by hand changes the evidence (the hash chain would show it anyway)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION contracts_evidence_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'signature evidence is append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
DROP TRIGGER IF EXISTS contracts_signatureevent_append_only ON contracts_signatureevent;
CREATE TRIGGER contracts_signatureevent_append_only
    BEFORE UPDATE OR DELETE ON contracts_signatureevent
    FOR EACH ROW EXECUTE FUNCTION contracts_evidence_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS contracts_signatureevent_append_only ON contracts_signatureevent;
DROP FUNCTION IF EXISTS contracts_evidence_append_only();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("contracts", "0003_digital_signature")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
