# The payee of each ledger entry (debt per payee, issue #14).
#
# A nullable column without a database constraint is added in place on SQLite (ALTER TABLE ADD
# COLUMN), so the table is not rebuilt and its closed-period triggers stay.
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0013_rules"),
        ("registry", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="ledgerentry",
            name="provider",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="registry.provider",
                verbose_name="поставщик",
            ),
        ),
    ]
