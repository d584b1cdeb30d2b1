"""Seed the penalty rate table and the moratoria of domain-rules.md."""

import datetime
from decimal import Decimal

from django.db import migrations, models

RATES = [
    (datetime.date(2022, 2, 28), Decimal("9.5"), "ПП РФ № 474 (2022) и продления до ПП № 329 (2025)"),
]
MORATORIA = [
    (datetime.date(2020, 4, 6), datetime.date(2020, 12, 31), None, "ПП РФ № 424 (2020)"),
    (
        datetime.date(2022, 4, 1),
        datetime.date(2022, 10, 1),
        datetime.date(2022, 4, 1),
        "ПП РФ № 497 (2022), долги до 01.04.2022",
    ),
]


def forwards(apps, schema_editor):
    KeyRate = apps.get_model("billing", "KeyRate")
    Moratorium = apps.get_model("billing", "Moratorium")
    for valid_from, rate, basis in RATES:
        KeyRate.objects.get_or_create(valid_from=valid_from, defaults={"rate": rate, "basis": basis})
    for start, end, due_before, basis in MORATORIA:
        Moratorium.objects.get_or_create(
            start=start, end=end, defaults={"basis": basis, "debts_due_before": due_before}
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_closed_period_guard")]
    operations = [
        migrations.AddField(
            model_name="moratorium",
            name="debts_due_before",
            field=models.DateField(
                blank=True, null=True, verbose_name="только для долгов со сроком до"
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
