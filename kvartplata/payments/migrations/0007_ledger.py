# The payee a payment names (debt per payee, issue #14): the ledger pays only that payee's debts.
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0006_leases"),
        ("registry", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="provider",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="registry.provider",
                verbose_name="получатель",
            ),
        ),
    ]
