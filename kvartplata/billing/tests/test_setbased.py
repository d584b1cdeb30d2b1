"""The set-based SQL run bills exactly what the Python biller (the reference) bills."""

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest

from kvartplata.billing import setbased
from kvartplata.billing.models import Charge, MeterState, Recalculation
from kvartplata.demo.world import build

TODAY = datetime.date(2026, 11, 25)
KOPECK = Decimal("0.01")
pytestmark = pytest.mark.django_db(transaction=False)


def ordered(rows):
    return sorted(rows, key=lambda row: tuple(str(v) for v in row))


def snapshot():
    charges = ordered(
        Charge.objects.values_list(
            "account__number",
            "period__month",
            "service__code",
            "kind",
            "zone",
            "method",
            "volume",
            "norm",
            "coefficient",
            "amount",
        )
    )
    recalcs = ordered(
        Recalculation.objects.values_list(
            "account__number", "period__month", "service__code", "concerns_month", "amount"
        )
    )
    states = ordered(
        tuple(v for k, v in row.items() if k not in ("id", "period_id", "meter_id", "account_id"))
        + (row["meter_id"] is not None,)
        for row in MeterState.objects.values()
    )
    return charges, recalcs, states


def explanations(composed: bool) -> dict:
    """Explanations of the metered and heating lines: composed at display, or kept as text."""
    from kvartplata.billing import explain
    from kvartplata.billing.models import Period
    from kvartplata.registry.models import PersonalAccount

    found = {}
    for account in PersonalAccount.objects.select_related("premises"):
        for period in Period.objects.all():
            lines = list(
                Charge.objects.filter(account=account, period=period).select_related("service")
            )
            if composed:
                explain.attach(lines, account, period)
            for c in lines:
                if c.service.method in ("meter", "heating") and c.kind == "individual":
                    key = (account.number, period.month, c.service.code, c.zone)
                    # Serial numbers are made from ids, which differ between the two worlds.
                    found[key] = re.sub(r"№ \w+", "№ …", c.explanation)
    return found


def test_a_world_billed_in_sql_equals_the_world_billed_in_python(monkeypatch, django_db_blocker):
    # Nine months: averages (6 months of history), norms after 3 estimated months, late readings
    # spread over the estimated months, expired meters, meters without readings, ОДН.
    build(accounts=150, months=8, today=TODAY)
    in_sql = snapshot()
    # Every line multiplies out: volume × tariff, half-up to the kopeck (× coefficient aside).
    for c in Charge.objects.filter(coefficient__isnull=True):
        assert c.amount == (c.volume * c.tariff).quantize(KOPECK, rounding=ROUND_HALF_UP), c
    texts_sql = explanations(composed=True)
    methods = {c[5] for c in in_sql[0]}
    assert {"meter", "average", "norm", "norm_coefficient", "common_house_meter"} <= methods
    assert in_sql[1], "late readings made recalculations"
    _wipe()
    monkeypatch.setattr(setbased, "PYTHON_ONLY", True)
    build(accounts=150, months=8, today=TODAY)
    in_python = snapshot()
    assert in_sql[0] == in_python[0]
    assert in_sql[1] == in_python[1]
    assert in_sql[2] == in_python[2]
    # What a resident reads under each line is the same too.
    # (the Python biller's lines carry their text; the few SQL made in this mode are composed)
    texts_python = explanations(composed=True)
    assert all(texts_python.values())
    assert texts_sql == texts_python


def _wipe():
    """Everything the demo made, so that it can be built again in the same test database."""
    from django.apps import apps
    from django.db import connection

    keep = {"django_migrations", "django_content_type", "auth_permission"}
    tables = [
        m._meta.db_table
        for m in apps.get_models(include_auto_created=True)
        if m._meta.db_table not in keep and m._meta.managed
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks may remain
            cursor.execute("TRUNCATE " + ", ".join(tables) + " CASCADE")  # noqa: S608
        else:
            cursor.execute("PRAGMA defer_foreign_keys = ON")
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608
