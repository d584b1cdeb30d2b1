# Leases of billing runs: who holds a run and until when (kvartplata.lib.leases).
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("billing", "0014_ledger_provider")]

    operations = [
        migrations.AddField(
            model_name="billingrun",
            name="lease_owner",
            field=models.CharField(
                blank=True, default="", max_length=200, verbose_name="кто выполняет"
            ),
        ),
        migrations.AddField(
            model_name="billingrun",
            name="lease_expires_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="аренда до"),
        ),
    ]
