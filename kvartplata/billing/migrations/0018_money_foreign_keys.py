"""FOREIGN KEY constraints back on the ledger and the balances (issue 13 item 5): money is never
booked against an account, a period or a payee that does not exist."""

import importlib

import django.db.models.deletion
from django.db import migrations, models

# Altering a table rebuilds it on SQLite, which drops its triggers: 0007 installs them again.
reinstall_sqlite_guards = importlib.import_module(
    "kvartplata.billing.migrations.0007_reinstall_sqlite_guards"
).forwards


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0017_privileges'),
        ('registry', '0003_onboarding'),
    ]

    operations = [
        migrations.AlterField(
            model_name='accountbalance',
            name='account',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='balances', to='registry.personalaccount', verbose_name='ЛС'),
        ),
        migrations.AlterField(
            model_name='accountbalance',
            name='period',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='balances', to='billing.period', verbose_name='период'),
        ),
        migrations.AlterField(
            model_name='ledgerentry',
            name='account',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='ledger', to='registry.personalaccount', verbose_name='ЛС'),
        ),
        migrations.AlterField(
            model_name='ledgerentry',
            name='period',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='ledger', to='billing.period', verbose_name='период'),
        ),
        migrations.AlterField(
            model_name='ledgerentry',
            name='provider',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='registry.provider', verbose_name='поставщик'),
        ),
        migrations.RunPython(reinstall_sqlite_guards, migrations.RunPython.noop),
    ]
