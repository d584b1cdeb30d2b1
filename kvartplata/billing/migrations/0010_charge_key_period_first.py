"""The charge lines' unique key starts with the period: a billing run appends to the index.

On SQLite the constraint change rebuilds the table, which drops its triggers: the closed-period
guards are installed again (as in 0007).
"""

import importlib

from django.db import migrations, models

guards = importlib.import_module("kvartplata.billing.migrations.0003_closed_period_guard")


def reinstall_sqlite_guards(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    guards.backwards(apps, schema_editor)
    guards.forwards(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0009_meter_state_from_cursors"),
        ("registry", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="charge",
            name="charge_one_line_per_account_service_period_kind",
        ),
        migrations.AddConstraint(
            model_name="charge",
            constraint=models.UniqueConstraint(
                fields=("period", "account", "service", "kind", "zone"),
                name="charge_one_line_per_period_account_service_kind",
            ),
        ),
        migrations.RunPython(reinstall_sqlite_guards, migrations.RunPython.noop),
    ]
