"""The periods move to the registry, the organization's calendar (issue 17: meters read them
without reaching up to billing). State only: the table keeps its name `billing_period`, its rows,
constraints and the closed-period triggers of billing migrations 0003 and 0007; nothing in the
database changes. billing 0019 points every relation at this model and forgets its own."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0004_search'),
        # The table was created and last changed by billing.
        ('billing', '0018_money_foreign_keys'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Period',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('month', models.DateField(help_text='Первое число месяца.', verbose_name='месяц')),
                        ('state', models.CharField(choices=[('open', 'открыт'), ('billed', 'начислен'), ('closed', 'закрыт')], default='open', max_length=10, verbose_name='состояние')),
                        ('due_date', models.DateField(verbose_name='срок оплаты')),
                        ('opened_at', models.DateTimeField(auto_now_add=True, verbose_name='открыт')),
                        ('billed_at', models.DateTimeField(blank=True, null=True, verbose_name='начислен')),
                        ('closed_at', models.DateTimeField(blank=True, null=True, verbose_name='закрыт')),
                        ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='periods', to='registry.organization', verbose_name='организация')),
                    ],
                    options={
                        'verbose_name': 'расчётный период',
                        'verbose_name_plural': 'расчётные периоды',
                        'db_table': 'billing_period',
                        'ordering': ['organization', '-month'],
                        'constraints': [models.UniqueConstraint(fields=('organization', 'month'), name='period_unique_month'), models.UniqueConstraint(condition=models.Q(('state', 'closed'), _negated=True), fields=('organization',), name='period_one_open_per_organization'), models.CheckConstraint(condition=models.Q(('month__day', 1)), name='period_month_first_day')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
