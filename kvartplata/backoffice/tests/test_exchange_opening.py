"""Opening balances become the ledger's start: the first month after a move-in, by hand.

An account moves in on the switch month March 2026 with debts for December, January and
February to two providers; its cold-water meter comes with the February reading.

    provider A (ИНН 7707083893, maintenance by area):  Dec 1000.00, Jan 800.00, Feb 500.00
    provider B (ИНН 7702070139, cold water by meter):  Dec  600.00, Jan 400.00, Feb 300.00
    opening of March = 1000 + 800 + 500 + 600 + 400 + 300 = 3600.00

March charges: maintenance 50.00 m² × 30 ₽ = 1500.00 (A); cold water from the loaded February
reading 120.000 to March's 125.000 = 5 m³ × 40 ₽ = 200.00 (B).

Penalty on March's receipt = accrued over February (1–28). Payment for a month is due on the
15th of the next one; days 1–30 after it accrue nothing, from day 31 the key rate 9.5 % / 300
a day. December's debt (due 15.01.2026) accrues from 15.02 (day 31) to 28.02: 14 days.
January's (due 15.02) starts on 18.03: nothing yet.

    A: 1000.00 × 9.5 % / 300 × 14 = 4.4333… → 4.43
    B:  600.00 × 9.5 % / 300 × 14 = 2.6600  → 2.66
    total due = 3600.00 + 1500.00 + 200.00 + 4.43 + 2.66 = 5307.09
    per payee: A 2300.00 + 1500.00 + 4.43 = 3804.43; B 1300.00 + 200.00 + 2.66 = 1502.66
"""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from kvartplata.backoffice.exchange.services import registry_import
from kvartplata.backoffice.tests.exchange_helpers import SWITCH, edit, organization, tables, xlsx
from kvartplata.billing import ledger
from kvartplata.billing.models import AccountBalance, LedgerEntry
from kvartplata.billing.services import billing_run, period_open
from kvartplata.billing.tests.factories import service
from kvartplata.meters.models import Meter, Reading
from kvartplata.receipts.builder import SnapshotBuilder
from kvartplata.registry.models import Period, PersonalAccount, Provider

pytestmark = pytest.mark.django_db
D = Decimal
A, B = "7707083893", "7702070139"
DEBTS = [
    (A, "2025-12", "1000.00"),
    (A, "2026-01", "800.00"),
    (A, "2026-02", "500.00"),
    (B, "2025-12", "600.00"),
    (B, "2026-01", "400.00"),
    (B, "2026-02", "300.00"),
]


def moved_in():
    org = organization()
    data = tables(accounts=1)
    data = edit(data, "premises", 0, "total_area", "50.00")
    data = edit(data, "meters", 0, "initial_value1", "100")
    data = edit(data, "meters", 0, "last_value1", "120.000")
    number = data["accounts"][1][0][0]
    columns = data["opening_balances"][0]
    data = {**data, "opening_balances": (columns, [[number, *d] for d in DEBTS])}
    report = registry_import(organization=org, source=xlsx(data), switch_month=SWITCH)
    assert report.ok, report.as_text()
    account = PersonalAccount.objects.get(organization=org, number=number)
    providers = {p.inn: p for p in Provider.objects.filter(organization=org)}
    service(org, providers[A], "maint", method="area", price="30", unit="m2")
    service(org, providers[B], "cold", method="meter", price="40", resource="cold_water")
    march = period_open(organization=org, month=SWITCH)
    meter = Meter.objects.get(account=account, resource="cold_water")
    Reading.objects.create(
        meter=meter, month=SWITCH, value1=D("125.000"), source="staff", submitted_at=timezone.now()
    )
    billing_run(organization=org)
    march.refresh_from_db()
    return org, account, providers, march


def test_it_opens_the_switch_month_with_the_debts():
    org, account, providers, march = moved_in()
    balance = AccountBalance.objects.get(account=account, period=march)
    assert balance.opening == D("3600.00")
    assert balance.charges == D("1700.00")
    assert balance.penalties == D("7.09")
    assert balance.closing == D("5307.09")


def test_it_accrues_penalties_per_provider_on_the_oldest_debt():
    org, account, providers, march = moved_in()
    penalties = dict(
        LedgerEntry.objects.filter(account=account, period=march, kind="penalty").values_list(
            "provider__inn", "amount"
        )
    )
    assert penalties == {A: D("4.43"), B: D("2.66")}


def test_it_bills_the_first_month_from_the_loaded_last_reading():
    org, account, providers, march = moved_in()
    charges = dict(
        LedgerEntry.objects.filter(account=account, period=march, kind="charge").values_list(
            "provider__inn", "amount"
        )
    )
    assert charges == {A: D("1500.00"), B: D("200.00")}


def test_it_gives_each_payee_its_own_debt():
    org, account, providers, march = moved_in()
    dues = ledger.payee_dues(march, [account.id])[account.id]
    assert dues[providers[A].id].debt == D("2300.00")
    assert dues[providers[A].id].amount == D("3804.43")
    assert dues[providers[B].id].debt == D("1300.00")
    assert dues[providers[B].id].amount == D("1502.66")


def test_it_prints_the_debt_and_penalty_on_the_first_receipt():
    org, account, providers, march = moved_in()
    snapshot = SnapshotBuilder(march).build([account.id], {account.id: 1}, timezone.now())
    totals = snapshot[account.id]["totals"]
    assert totals["opening"] == "3600.00"
    assert totals["penalties"] == "7.09"
    assert totals["total_due"] == "5307.09"
    assert Period.objects.get(organization=org, month=datetime.date(2026, 2, 1)).is_closed


def test_it_lets_a_resident_link_with_the_first_receipts_code_and_see_the_debt(client):
    from kvartplata.backoffice.closing import period_close_with_receipts
    from kvartplata.cabinet.services import account_link
    from kvartplata.lib.money import format_rub
    from kvartplata.receipts.models import Receipt
    from kvartplata.users.services import user_create

    org, account, providers, march = moved_in()
    period_close_with_receipts(organization=org)
    receipt = Receipt.objects.get(account=account, month=SWITCH)
    assert receipt.total_due == D("5307.09")
    code = receipt.data["account"]["link_code"]
    assert code == account.link_code
    user = user_create(
        username="novosel", email="n@example.ru", password="Kvart-plata-2026", email_verified=True
    )
    account_link(user=user, number=account.number, proof=code)
    client.force_login(user)
    page = client.get(f"/accounts/{account.id}/").content.decode()
    assert format_rub(D("5307.09")) in page  # the debt with March: «5 307,09 ₽»
    payments = client.get(f"/accounts/{account.id}/payments/").content.decode()
    assert format_rub(D("3600.00")) in payments  # the opening debt of March
