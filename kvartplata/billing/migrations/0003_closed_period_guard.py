"""Database triggers: rows of a closed period cannot be inserted, changed or deleted."""

from django.db import migrations

GUARDED_TABLES = [
    "billing_charge",
    "billing_recalculation",
    "billing_ledgerentry",
    "billing_accountbalance",
]

PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION kv_guard_closed_new() RETURNS trigger AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM new_rows n JOIN billing_period p ON p.id = n.period_id
             WHERE p.state = 'closed') THEN
    RAISE EXCEPTION 'Период закрыт: изменения запрещены (%)', TG_TABLE_NAME
      USING ERRCODE = '23514';
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION kv_guard_closed_old() RETURNS trigger AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM old_rows o JOIN billing_period p ON p.id = o.period_id
             WHERE p.state = 'closed') THEN
    RAISE EXCEPTION 'Период закрыт: изменения запрещены (%)', TG_TABLE_NAME
      USING ERRCODE = '23514';
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION kv_guard_period_row() RETURNS trigger AS $$
BEGIN
  IF OLD.state = 'closed' THEN
    RAISE EXCEPTION 'Период закрыт: изменения запрещены' USING ERRCODE = '23514';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER billing_period_closed_guard BEFORE UPDATE OR DELETE ON billing_period
  FOR EACH ROW EXECUTE FUNCTION kv_guard_period_row();
"""

PG_TABLE = """
CREATE TRIGGER {t}_closed_ins AFTER INSERT ON {t}
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kv_guard_closed_new();
CREATE TRIGGER {t}_closed_upd_old AFTER UPDATE ON {t}
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION kv_guard_closed_old();
CREATE TRIGGER {t}_closed_upd_new AFTER UPDATE ON {t}
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kv_guard_closed_new();
CREATE TRIGGER {t}_closed_del AFTER DELETE ON {t}
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION kv_guard_closed_old();
"""

# SQLite has no statement triggers; its row triggers look the period up by primary key.
# Deletes are not guarded on SQLite because Django's test flush empties tables with DELETE;
# the services never delete rows of a closed period, and PostgreSQL guards deletes too.
SQLITE_PERIOD = """
CREATE TRIGGER billing_period_closed_upd BEFORE UPDATE ON billing_period
WHEN OLD.state = 'closed'
BEGIN SELECT RAISE(ABORT, 'Период закрыт: изменения запрещены'); END;
"""

SQLITE_TABLE = """
CREATE TRIGGER {t}_closed_ins BEFORE INSERT ON {t}
WHEN (SELECT state FROM billing_period WHERE id = NEW.period_id) = 'closed'
BEGIN SELECT RAISE(ABORT, 'Период закрыт: изменения запрещены'); END;
CREATE TRIGGER {t}_closed_upd BEFORE UPDATE ON {t}
WHEN (SELECT state FROM billing_period WHERE id = OLD.period_id) = 'closed'
  OR (SELECT state FROM billing_period WHERE id = NEW.period_id) = 'closed'
BEGIN SELECT RAISE(ABORT, 'Период закрыт: изменения запрещены'); END;
"""


def split(sql: str) -> list[str]:
    """Split on statement ends, keeping PL/pgSQL bodies and SQLite trigger bodies whole."""
    statements, current = [], []
    for line in sql.strip().splitlines():
        current.append(line)
        text = "\n".join(current).strip()
        if text.endswith(";") and (
            text.endswith("plpgsql;")
            or text.endswith("END;")
            or ("$$" not in text and "BEGIN" not in text)
        ):
            statements.append(text)
            current = []
    return statements


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        sql = PG_FUNCTIONS + "".join(PG_TABLE.format(t=t) for t in GUARDED_TABLES)
    elif vendor == "sqlite":
        sql = SQLITE_PERIOD + "".join(SQLITE_TABLE.format(t=t) for t in GUARDED_TABLES)
    else:
        return
    for statement in split(sql):
        schema_editor.execute(statement, params=None)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for t in GUARDED_TABLES:
            for suffix in ("ins", "upd_old", "upd_new", "del"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {t}_closed_{suffix} ON {t}")
        schema_editor.execute("DROP TRIGGER IF EXISTS billing_period_closed_guard ON billing_period")
    elif vendor == "sqlite":
        for t in GUARDED_TABLES:
            for suffix in ("ins", "upd"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {t}_closed_{suffix}")
        schema_editor.execute("DROP TRIGGER IF EXISTS billing_period_closed_upd")


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
