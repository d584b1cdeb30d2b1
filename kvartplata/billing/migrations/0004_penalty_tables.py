"""Seed the penalty rate table and the moratoria of domain-rules.md."""

import datetime
from decimal import Decimal

from django.db import migrations

RATES = [
    (datetime.date(2022, 2, 28), Decimal("9.5"), "ПП РФ № 474 (2022) и продления до ПП № 329 (2025)"),
]
MORATORIA = [
    (datetime.date(2020, 4, 6), datetime.date(2020, 12, 31), "ПП РФ № 424 (2020)"),
    (datetime.date(2022, 4, 1), datetime.date(2022, 9, 30), "ПП РФ № 497 (2022)"),
]


def forwards(apps, schema_editor):
    KeyRate = apps.get_model("billing", "KeyRate")
    Moratorium = apps.get_model("billing", "Moratorium")
    for valid_from, rate, basis in RATES:
        KeyRate.objects.get_or_create(valid_from=valid_from, defaults={"rate": rate, "basis": basis})
    for start, end, basis in MORATORIA:
        Moratorium.objects.get_or_create(start=start, end=end, defaults={"basis": basis})


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_closed_period_guard")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
