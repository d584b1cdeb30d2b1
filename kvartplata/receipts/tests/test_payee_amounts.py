"""Each payee's QR asks for that payee's own old debt (or − advance) + its month, never another
payee's debt and never a negative sum (`ledger.payee_dues`, `calc.allocation.payee_due`)."""

import datetime
from decimal import Decimal

import pytest

from kvartplata.billing import ledger
from kvartplata.billing.models import Charge
from kvartplata.billing.tests import factories as f
from kvartplata.receipts.builder import SnapshotBuilder
from kvartplata.registry.models import Period, Provider

D = Decimal
OCT, NOV = datetime.date(2026, 10, 1), datetime.date(2026, 11, 1)
pytestmark = pytest.mark.django_db


def _snapshot(*, october: list, november: list, full: bool = False):
    """The November receipt of one account: the management company (the executor, same ИНН as
    the organization) bills 300 and 600, the water company 100 and 200; the given entries
    (kind, payee, amount) are added to October and November."""
    org = f.organization()
    uk = f.provider(org)
    water = Provider.objects.create(
        organization=org, name="Водоканал", short_name="ВК", **{**f.BANK, "inn": "6234000010"}
    )
    bld = f.building(org)
    account = f.account(org, bld, "1", area="50")
    maint = f.service(org, uk, "maint", method="area", price="12", unit="m2")
    cold = f.service(org, water, "cold", method="area", price="4", unit="m2")
    payee = {"uk": uk.id, "water": water.id}
    october_period = Period.objects.create(organization=org, month=OCT, due_date=OCT)
    rows = [("charge", "uk", "300.00"), ("charge", "water", "100.00"), *october]
    ledger.post_entries(
        (account.id, october_period.id, OCT, kind, D(amount), OCT, None, "", payee[who])
        for kind, who, amount in rows
    )
    ledger.refresh_balances(october_period)
    Period.objects.filter(id=october_period.id).update(state=Period.State.CLOSED)
    period = Period.objects.create(organization=org, month=NOV, due_date=NOV)
    for service, amount in ((maint, "600.00"), (cold, "200.00")):
        Charge.objects.create(
            account=account,
            period=period,
            service=service,
            method=Charge.Method.AREA,
            volume=D("50"),
            tariff=service.tariffs.get().price,
            amount=D(amount),
        )
    ledger.post_charges(period, None)
    ledger.post_entries(
        (account.id, period.id, NOV, kind, D(amount), NOV, None, "", payee[who])
        for kind, who, amount in november
    )
    ledger.refresh_balances(period)
    snapshots = SnapshotBuilder(period).build(
        [account.id], {account.id: 1}, datetime.datetime.now()
    )
    snapshot = snapshots[account.id]
    # the executor first, then the water company (its ИНН differs from the organization's)
    assert [p["inn"] for p in snapshot["payees"]] == [org.inn, water.inn]
    amounts = [D(p["amount"]) for p in snapshot["payees"]]
    if full:
        return amounts, D(snapshot["totals"]["total_due"]), snapshot
    return amounts, D(snapshot["totals"]["total_due"])


def test_it_asks_each_payee_for_its_own_debt_and_month():
    # the water company was paid 60 of its October 100: it asks 40 + 200 = 240; the management
    # company asks its October 300 + November 600 = 900 (before: 1 140 − 200 = 940, the water
    # company's old debt on the management company's code)
    payees, total = _snapshot(october=[("payment", "water", "-60.00")], november=[])
    assert payees == [D("900.00"), D("240.00")]
    assert total == D("1140.00")  # 300 + 100 − 60 + 600 + 200


def test_it_keeps_an_advance_with_its_payee_and_never_asks_a_negative_sum():
    # 500 paid to the water company in October: its advance 400 exceeds November's 200, so its
    # code asks nothing (not −200); the management company still asks its 300 + 600 = 900,
    # more than the account's total of 700, since one payee's advance pays no other's debt
    payees, total = _snapshot(october=[("payment", "water", "-500.00")], november=[])
    assert payees == [D("900.00"), D("0.00")]
    assert total == D("700.00")  # 300 + 100 − 500 + 600 + 200


def test_it_shows_each_payees_debt_and_advance():
    _, _, snapshot = _snapshot(october=[("payment", "water", "-500.00")], november=[], full=True)
    # the company: 300 of debt from October; the water company: 500 − 100 = 400 of advance
    assert [(p["debt"], p["advance"]) for p in snapshot["payees"]] == [
        ("300.00", "0.00"),
        ("0.00", "400.00"),
    ]


def test_it_puts_a_penalty_on_the_payee_of_its_debt():
    # a penalty of 3.15 on the water company's debt: 100 + 200 + 3.15 = 303.15
    payees, _ = _snapshot(october=[], november=[("penalty", "water", "3.15")])
    assert payees == [D("900.00"), D("303.15")]
