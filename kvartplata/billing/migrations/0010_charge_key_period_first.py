"""The charge lines' unique key starts with the period: a billing run appends to the index.

On SQLite the constraint change rebuilds the table, which drops its triggers: the closed-period
guards are installed again (as in 0007).
"""

import importlib

from django.db import migrations, models

# Altering a table rebuilds it on SQLite, which drops its triggers: 0007 installs them again.
reinstall_sqlite_guards = importlib.import_module(
    "kvartplata.billing.migrations.0007_reinstall_sqlite_guards"
).forwards


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
