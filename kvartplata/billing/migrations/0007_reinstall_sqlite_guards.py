"""Re-create the closed-period triggers on SQLite: altering a table there rebuilds it, and the
rebuild drops its triggers (0006 altered the guarded tables). PostgreSQL keeps them."""

import importlib

from django.db import migrations

guards = importlib.import_module("kvartplata.billing.migrations.0003_closed_period_guard")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    guards.backwards(apps, schema_editor)
    guards.forwards(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("billing", "0006_covering_indexes")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
