"""The demo world: deterministic, produced by the engine, and its ledger adds up everywhere."""

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from kvartplata.billing.models import AccountBalance, BillingRun, Charge, LedgerEntry
from kvartplata.demo.world import build
from kvartplata.receipts.models import Receipt
from kvartplata.registry.models import Period, PersonalAccount
from kvartplata.users.models import AccountLink, User

TODAY = datetime.date(2026, 11, 25)
pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build(accounts=30, months=6, today=TODAY)


def test_it_builds_closed_history_and_an_open_month(world):
    periods = list(Period.objects.order_by("month").values_list("month", "state"))
    assert len(periods) == 7
    assert all(state == "closed" for _, state in periods[:-1])
    assert periods[-1] == (datetime.date(2026, 11, 1), "open")
    assert PersonalAccount.objects.count() == 30
    assert set(BillingRun.objects.values_list("accounts_total", "accounts_done")) == {(30, 30)}
    methods = set(Charge.objects.values_list("method", flat=True))
    assert {"meter", "area", "person", "norm", "common_house_meter", "common_house_norm"} <= methods


def test_its_ledger_adds_up_for_every_account_and_month(world):
    balances = defaultdict(list)
    for b in AccountBalance.objects.order_by("month"):
        balances[b.account_id].append(b)
    journal = defaultdict(lambda: defaultdict(Decimal))
    for account_id, period_id, kind, amount in LedgerEntry.objects.values_list(
        "account_id", "period_id", "kind", "amount"
    ):
        journal[(account_id, period_id)][kind] += amount
    assert len(balances) == 30
    for rows in balances.values():
        assert len(rows) == 6
        start = Decimal("0.00")
        for row in rows:
            sums = journal[(row.account_id, row.period_id)]
            assert row.opening == start
            assert row.charges == sums["charge"]
            assert row.recalculations == sums["recalculation"]
            assert row.penalties == sums["penalty"]
            assert row.payments == -sums["payment"]
            assert row.closing == start + row.charges + row.recalculations + row.penalties - (
                row.payments
            )
            start = row.closing
    assert LedgerEntry.objects.filter(kind="penalty").exists()
    assert LedgerEntry.objects.filter(kind="recalculation").exists()


def test_it_is_deterministic():
    def fingerprint():
        sid = transaction.savepoint()
        build(accounts=20, months=3, today=TODAY)
        figures = list(
            AccountBalance.objects.order_by("account__number", "month").values_list(
                "account__number", "month", "opening", "charges", "penalties", "payments", "closing"
            )
        )
        transaction.savepoint_rollback(sid)
        return figures

    first = fingerprint()
    assert len(first) == 60
    assert fingerprint() == first


def test_it_creates_the_demo_logins(world):
    demo = User.objects.get(username="demo")
    assert demo.check_password("demo-kvartplata")
    assert AccountLink.objects.filter(user=demo, account=world.resident_account).exists()
    operator = User.objects.get(username="operator")
    assert operator.is_staff and operator.organization == world.organization


def test_it_issues_receipts_of_closed_months(world):
    if not Receipt.objects.exists():
        pytest.skip("receipts are issued once the receipts service exists")
    assert Receipt.objects.filter(account=world.resident_account).count() == 6


def test_the_command_refuses_a_filled_database_and_skips_with_if_empty(world, capsys):
    with pytest.raises(CommandError):
        call_command("demo", accounts=20, months=1)
    call_command("demo", if_empty=True)
    assert "логин demo" in capsys.readouterr().out
