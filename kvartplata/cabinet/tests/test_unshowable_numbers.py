"""The cabinet never answers 500 whatever the database holds (issue #16, item 3).

A value stored out of range (SQLite keeps it as a REAL: Infinity, 10^20) is shown as «—» and
logged; every resident page still opens.
"""

import pytest
from django.db import connection
from django.urls import reverse

from kvartplata.billing.models import AccountBalance, Charge, LedgerEntry
from kvartplata.billing.services import billing_run
from kvartplata.meters.models import Reading

PAGES = [
    ("cabinet:account", []),
    ("cabinet:services", []),
    ("cabinet:charges", []),
    ("cabinet:payments", []),
    ("cabinet:charts", []),
    ("cabinet:chart_charges", []),
    ("cabinet:chart_consumption", ["m3"]),
    ("cabinet:chart_consumption", ["kwh"]),
    ("cabinet:meters:meter_list", []),
    ("cabinet:receipts:receipt_list", []),
]


def _store(table: str, columns: list[str], value: str, row_id: int) -> None:
    sets = ", ".join(f"{column} = {value}" for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {sets} WHERE id = %s", [row_id])  # noqa: S608


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL refuses such numbers")
@pytest.mark.parametrize("value", ["1e400", "-1e400", "99999999999999999999.99"])
def test_it_opens_every_resident_page_whatever_the_numbers(demo_client, world, caplog, value):
    billing_run(organization=world.organization)  # the open month: its rows are not guarded
    account = world.resident_account
    charge = Charge.objects.filter(account=account).exclude(period__state="closed").first()
    _store("billing_charge", ["volume", "tariff", "amount"], value, charge.id)
    entry = LedgerEntry.objects.filter(account=account, period=charge.period).first()
    _store("billing_ledgerentry", ["amount"], value, entry.id)
    balance = AccountBalance.objects.get(account=account, period=charge.period)
    # The balance's own check (opening + charges … = closing) holds with these two.
    _store("billing_accountbalance", ["charges", "closing"], value, balance.id)
    reading = Reading.objects.filter(meter__account=account).order_by("-month").first()
    _store("meters_reading", ["value1"], value.lstrip("-"), reading.id)  # not negative: a CHECK
    month = {"month": f"{charge.period.month:%Y-%m}"}
    with caplog.at_level("ERROR"):
        for name, args in PAGES:
            response = demo_client.get(reverse(name, args=[account.id, *args]), month)
            assert response.status_code == 200, (name, response.status_code)
        html = demo_client.get(reverse("cabinet:charges", args=[account.id]), month)
    assert "—" in html.content.decode()
    assert any("Unreadable number" in r.getMessage() for r in caplog.records)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL refuses such numbers")
def test_it_opens_the_back_office_lists_whatever_the_numbers(client, world, settings):
    from django.contrib.auth import get_user_model

    billing_run(organization=world.organization)
    account = world.resident_account
    charge = Charge.objects.filter(account=account).exclude(period__state="closed").first()
    _store("billing_charge", ["volume", "tariff", "amount"], "1e400", charge.id)
    entry = LedgerEntry.objects.filter(account=account, period=charge.period).first()
    _store("billing_ledgerentry", ["amount"], "1e400", entry.id)
    balance = AccountBalance.objects.get(account=account, period=charge.period)
    _store("billing_accountbalance", ["charges", "closing"], "1e400", balance.id)
    client.force_login(get_user_model().objects.get(username="operator"))
    for model in (Charge, LedgerEntry, AccountBalance):
        url = reverse(f"admin:billing_{model._meta.model_name}_changelist")
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
