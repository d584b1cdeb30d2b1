"""FOREIGN KEY constraints back on payments (issue 13 item 5)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0018_money_foreign_keys'),
        ('payments', '0007_ledger'),
        ('registry', '0003_onboarding'),
    ]

    operations = [
        migrations.AlterField(
            model_name='payment',
            name='account',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='payments', to='registry.personalaccount', verbose_name='ЛС'),
        ),
        migrations.AlterField(
            model_name='payment',
            name='bank',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, to='payments.bank', verbose_name='банк'),
        ),
        migrations.AlterField(
            model_name='payment',
            name='file',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='payments', to='payments.paymentfile', verbose_name='реестр'),
        ),
        migrations.AlterField(
            model_name='payment',
            name='organization',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='payments', to='registry.organization', verbose_name='организация'),
        ),
        migrations.AlterField(
            model_name='payment',
            name='period',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='payments', to='billing.period', verbose_name='проведён в периоде'),
        ),
        migrations.AlterField(
            model_name='payment',
            name='provider',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='registry.provider', verbose_name='получатель'),
        ),
    ]
