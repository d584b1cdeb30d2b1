"""The set-based posting of an import writes exactly the rows `ledger.post_payments` writes.

Random journals (debts, advances, overpaid months, negative advances, penalties) and random
payments (several a day, around midnight, naming months or not) are posted both ways; the
entries, the open debts and the balances must be the same.
"""

import datetime
import random
import zoneinfo
from decimal import Decimal

import pytest
from django.db import connection, transaction

from kvartplata.billing import ledger, services
from kvartplata.billing.models import AccountBalance, LedgerEntry, Period
from kvartplata.payments import posting
from kvartplata.payments.models import Payment, PaymentFile
from kvartplata.payments.tests.conftest import line, registry

MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")
MONTHS = [datetime.date(2026, m, 1) for m in (7, 8, 9, 10, 11)]


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low, high)) / 100


def _journal(rng: random.Random, period: Period, accounts) -> None:
    """Extra entries that make the open debts of the accounts varied."""
    rows = []
    for account in accounts:
        for _ in range(rng.randint(0, 5)):
            kind = rng.choice(["charge", "charge", "recalculation", "correction", "payment"])
            month = rng.choice([*MONTHS, None]) if kind != "charge" else rng.choice(MONTHS)
            amount = _money(rng, 1, 300_000)
            if kind == "payment" or (kind != "charge" and rng.random() < 0.4):
                amount = -amount
            rows.append((account.pk, period.pk, month, kind, amount, period.month, None, ""))
        if rng.random() < 0.3:
            rows.append(
                (
                    account.pk,
                    period.pk,
                    None,
                    "penalty",
                    _money(rng, 1, 5000),
                    period.month,
                    None,
                    "",
                )
            )
    ledger.post_entries(rows)


def _payments(rng: random.Random, bank, accounts, period: Period) -> PaymentFile:
    payment_file = PaymentFile.objects.create(bank=bank, name="r.txt", size=1)
    for i in range(rng.randint(1, 40)):
        account = rng.choice(accounts)
        day = rng.choice([1, 2, 2, 3, 10])
        hour = rng.choice([0, 1, 2, 12, 21, 22, 23])
        paid_at = datetime.datetime(2026, 11, day, hour, rng.randint(0, 59), tzinfo=MOSCOW)
        Payment.objects.create(
            organization=bank.organization,
            bank=bank,
            file=payment_file,
            natural_key=f"K{i}",
            account=account,
            account_number=account.number,
            paid_at=paid_at,
            amount=_money(rng, 1, 500_000),
            for_month=rng.choice([None, None, *MONTHS, datetime.date(2026, 6, 1)]),
            period=period,
        )
    return payment_file


def _entries(source_ids) -> list:
    return sorted(
        LedgerEntry.objects.filter(kind="payment", source_id__in=source_ids).values_list(
            "account_id", "concerns_month", "amount", "entry_date", "source_id"
        ),
        key=lambda row: (row[4], str(row[1]), row[2]),
    )


def _expected(period: Period, payments) -> list:
    """What ledger.post_payments writes for the payments (then undone)."""
    posts = [
        {
            "id": p.pk,
            "account_id": p.account_id,
            "amount": p.amount,
            "paid_on": p.paid_at.astimezone(MOSCOW).date(),
            "for_month": p.for_month,
        }
        for p in payments
    ]
    sid = transaction.savepoint()
    ledger.post_payments(period, posts)
    rows = _entries([p.pk for p in payments])
    transaction.savepoint_rollback(sid)
    return rows


@pytest.mark.parametrize("seed", range(8))
def test_it_writes_the_rows_post_payments_writes(world, bank, accounts, seed):
    rng = random.Random(seed)
    period = services.current_period(world.organization)
    for _ in range(6):
        with transaction.atomic():
            chosen = rng.sample(accounts, 6)
            _journal(rng, period, chosen)
            after_id = Payment.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            payment_file = _payments(rng, bank, chosen, period)
            payments = list(Payment.objects.filter(file=payment_file))
            expected = _expected(period, payments)
            debts = ledger.open_debts(sorted({p.account_id for p in payments}))
            posting.post_imported(period, file_id=payment_file.pk, after_id=after_id)
            assert _entries([p.pk for p in payments]) == expected
            transaction.set_rollback(True)
            assert debts is not None


@pytest.mark.parametrize("seed", range(6))
def test_its_open_debts_are_those_of_the_ledger(world, bank, accounts, seed):
    rng = random.Random(100 + seed)
    period = services.current_period(world.organization)
    with transaction.atomic():
        _journal(rng, period, accounts)
        after_id = Payment.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        payment_file = _payments(rng, bank, accounts, period)
        ids = sorted(
            set(Payment.objects.filter(file=payment_file).values_list("account", flat=True))
        )
        with connection.cursor() as cursor:
            posting._new_payments(cursor, payment_file.pk, after_id)
            posting._open_debts(cursor)
            cursor.execute("SELECT account_id, month, unpaid FROM payments_debts")
            found = {}
            for account_id, month, kopecks in cursor.fetchall():
                if isinstance(month, str):
                    month = datetime.date.fromisoformat(month)
                found.setdefault(account_id, {})[month] = Decimal(kopecks).scaleb(-2)
            posting._drop(cursor)
        expected = {k: v for k, v in ledger.open_debts(ids).items() if v}
        assert found == expected
        transaction.set_rollback(True)


def test_it_keeps_balances_equal_to_the_journal(world, accounts, import_text):
    services.billing_run(organization=world.organization)
    period = services.current_period(world.organization)
    assert period.state == Period.State.BILLED
    lines = [
        line(accounts[i % 8].number, f"{100 + 37 * i}.{i % 100:02d}", op=f"B{i}", month=month)
        for i, month in enumerate(["", "", "102026", "", "112026", "", "092026", ""] * 3)
    ]
    f = import_text(registry(lines))
    assert f.status == PaymentFile.Status.IMPORTED, f.error

    def snapshot():
        return sorted(
            AccountBalance.objects.filter(period=period).values_list(
                "account_id",
                "opening",
                "charges",
                "recalculations",
                "penalties",
                "payments",
                "closing",
            )
        )

    after_import = snapshot()
    ledger.refresh_balances(period)  # from the journal, for every account
    assert snapshot() == after_import


def test_it_dates_payments_in_local_time_across_a_clock_change(world, bank, accounts, settings):
    """Berlin leaves summer time on 25.10.2026: payments around midnight on both sides."""
    settings.TIME_ZONE = "Europe/Berlin"
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    period = services.current_period(world.organization)
    after_id = Payment.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    payment_file = PaymentFile.objects.create(bank=bank, name="r.txt", size=1)
    moments = [(24, 23, 30), (25, 0, 30), (25, 23, 30), (26, 0, 15), (26, 23, 59)]
    for i, (day, hour, minute) in enumerate(moments):
        Payment.objects.create(
            organization=bank.organization,
            bank=bank,
            file=payment_file,
            natural_key=f"T{i}",
            account=accounts[i % 2],
            account_number=accounts[i % 2].number,
            paid_at=datetime.datetime(2026, 10, day, hour, minute, tzinfo=berlin),
            amount=Decimal("100.00"),
            period=period,
        )
    payments = list(Payment.objects.filter(file=payment_file))
    posts = [
        {
            "id": p.pk,
            "account_id": p.account_id,
            "amount": p.amount,
            "paid_on": p.paid_at.astimezone(berlin).date(),
            "for_month": None,
        }
        for p in payments
    ]
    sid = transaction.savepoint()
    ledger.post_payments(period, posts)
    expected = _entries([p.pk for p in payments])
    transaction.savepoint_rollback(sid)
    posting.post_imported(period, file_id=payment_file.pk, after_id=after_id)
    assert _entries([p.pk for p in payments]) == expected
    assert {row[3].day for row in expected} == {24, 25, 26}
