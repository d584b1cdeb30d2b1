"""Rules of 2025–2026: the billing precision of a service's volumes and the increasing
coefficients per resource with validity dates (instead of one coefficient per organization);
FOREIGN KEY constraints back on the run's charges and meter states (issue 13 item 5)."""

import datetime
import importlib
from decimal import Decimal

import django.db.models.deletion
from django.db import migrations, models

# Altering a table rebuilds it on SQLite, which drops its triggers: 0007 installs them again.
reinstall_sqlite_guards = importlib.import_module(
    "kvartplata.billing.migrations.0007_reinstall_sqlite_guards"
).forwards

# ПП РФ № 354 пп. 42, 60 (coefficient 1,5 since 2017); ПП РФ № 1871 of 25.11.2025 (cold water 3).
RATES = [
    ("cold_water", datetime.date(2017, 1, 1), Decimal("1.50"), "ПП РФ № 354, пп. 42, 60"),
    ("cold_water", datetime.date(2025, 12, 6), Decimal("3.00"), "ПП РФ № 1871 от 25.11.2025"),
    ("hot_water", datetime.date(2017, 1, 1), Decimal("1.50"), "ПП РФ № 354, пп. 42, 60"),
    ("electricity", datetime.date(2017, 1, 1), Decimal("1.50"), "ПП РФ № 354, пп. 42, 60"),
]


def add_rates(apps, schema_editor):
    IncreasingCoefficient = apps.get_model("billing", "IncreasingCoefficient")
    for resource, valid_from, value, basis in RATES:
        IncreasingCoefficient.objects.get_or_create(
            resource=resource, valid_from=valid_from, defaults={"value": value, "basis": basis}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0012_fact_tables_without_fk_constraints"),
        ("meters", "0001_initial"),
        ("registry", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="service",
            name="volume_precision",
            field=models.PositiveSmallIntegerField(
                blank=True,
                choices=[(0, "целые"), (1, "0,1"), (2, "0,01"), (3, "0,001"), (4, "0,0001")],
                help_text=(
                    "Точность, с которой объём округляется перед умножением на тариф и "
                    "печатается. Пусто — по единице: м³ 0,001; Гкал 0,0001; кВт·ч 0,01; м² 0,01."
                ),
                null=True,
                verbose_name="знаков объёма после запятой",
            ),
        ),
        migrations.CreateModel(
            name="IncreasingCoefficient",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "resource",
                    models.CharField(
                        choices=[
                            ("", "—"),
                            ("cold_water", "холодная вода"),
                            ("hot_water", "горячая вода"),
                            ("electricity", "электроэнергия"),
                            ("gas", "газ"),
                            ("heat", "тепловая энергия"),
                        ],
                        max_length=20,
                        verbose_name="ресурс",
                    ),
                ),
                ("valid_from", models.DateField(verbose_name="действует с")),
                (
                    "value",
                    models.DecimalField(decimal_places=2, max_digits=5, verbose_name="коэффициент"),
                ),
                ("basis", models.CharField(blank=True, max_length=200, verbose_name="основание")),
            ],
            options={
                "verbose_name": "повышающий коэффициент",
                "verbose_name_plural": "повышающие коэффициенты",
                "ordering": ["resource", "-valid_from"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("resource", "valid_from"),
                        name="increasing_coefficient_unique_start",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("value__gte", 1)),
                        name="increasing_coefficient_at_least_1",
                        violation_error_message="Повышающий коэффициент не может быть меньше 1.",
                    ),
                ],
            },
        ),
        migrations.RunPython(add_rates, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="charge",
            name="account",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="charges",
                to="registry.personalaccount",
                verbose_name="ЛС",
            ),
        ),
        migrations.AlterField(
            model_name="charge",
            name="period",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="charges",
                to="billing.period",
                verbose_name="период",
            ),
        ),
        migrations.AlterField(
            model_name="charge",
            name="run",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                to="billing.billingrun",
                verbose_name="запуск",
            ),
        ),
        migrations.AlterField(
            model_name="charge",
            name="service",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="charges",
                to="billing.service",
                verbose_name="услуга",
            ),
        ),
        migrations.AlterField(
            model_name="meterstate",
            name="account",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                to="registry.personalaccount",
            ),
        ),
        migrations.AlterField(
            model_name="meterstate",
            name="meter",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.PROTECT, to="meters.meter"
            ),
        ),
        migrations.AlterField(
            model_name="meterstate",
            name="period",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.CASCADE, to="billing.period"
            ),
        ),
        migrations.RunPython(reinstall_sqlite_guards, migrations.RunPython.noop),
    ]
