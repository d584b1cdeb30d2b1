# Leases of claimed jobs: who holds a job and until when (kvartplata.lib.leases).
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("receipts", "0005_form")]

    operations = [
        migrations.AddField(
            model_name="receiptdelivery",
            name="lease_owner",
            field=models.CharField(
                blank=True, default="", max_length=200, verbose_name="кто выполняет"
            ),
        ),
        migrations.AddField(
            model_name="receiptdelivery",
            name="lease_expires_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="аренда до"),
        ),
    ]
