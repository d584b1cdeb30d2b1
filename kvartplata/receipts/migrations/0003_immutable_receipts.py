"""Database triggers: an issued receipt cannot be changed (nor deleted, on PostgreSQL)."""

from django.db import migrations

PG = [
    """
CREATE OR REPLACE FUNCTION kv_refuse_receipt_change() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'Выпущенная квитанция не изменяется' USING ERRCODE = '23514';
END $$ LANGUAGE plpgsql;
""",
    """CREATE TRIGGER receipts_receipt_immutable BEFORE UPDATE OR DELETE ON receipts_receipt
  FOR EACH ROW EXECUTE FUNCTION kv_refuse_receipt_change();""",
]
# Deletes stay unguarded on SQLite: Django's test flush empties tables with DELETE there.
SQLITE = [
    """CREATE TRIGGER receipts_receipt_immutable BEFORE UPDATE ON receipts_receipt
BEGIN SELECT RAISE(ABORT, 'Выпущенная квитанция не изменяется'); END;""",
]


def forwards(apps, schema_editor):
    statements = {"postgresql": PG, "sqlite": SQLITE}.get(schema_editor.connection.vendor, [])
    for statement in statements:
        schema_editor.execute(statement, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS receipts_receipt_immutable ON receipts_receipt")
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS receipts_receipt_immutable")


class Migration(migrations.Migration):
    dependencies = [("receipts", "0002_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
