"""Posting an import: the file's matched payments allocated by `calc.allocation`, per payee,
batch by batch, dated in local time, with balances equal to the journal."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest

from kvartplata.billing import ledger, services
from kvartplata.billing.models import AccountBalance, LedgerEntry
from kvartplata.billing.tests import factories as f
from kvartplata.payments import posting
from kvartplata.payments.models import Bank, Payment, PaymentFile
from kvartplata.payments.tests.conftest import line, registry
from kvartplata.registry.models import Period

D = Decimal
MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")
OCT, NOV = datetime.date(2026, 10, 1), datetime.date(2026, 11, 1)


@pytest.fixture
def two_payees(db):
    """Two accounts owing October to the management company (300) and the water company (100);
    November open, billed 600 + 200 per account."""
    org = f.organization()
    uk, water = f.provider(org), f.provider(org)
    bld = f.building(org)
    a1, a2 = (f.account(org, bld, str(i + 1), area="50").id for i in range(2))
    october = Period.objects.create(
        organization=org, month=OCT, due_date=datetime.date(2026, 11, 15)
    )
    for a in (a1, a2):
        ledger.post_entries(
            [
                (a, october.id, OCT, "charge", D("300.00"), OCT, None, "", uk.id),
                (a, october.id, OCT, "charge", D("100.00"), OCT, None, "", water.id),
            ]
        )
    Period.objects.filter(id=october.id).update(state=Period.State.CLOSED)
    november = Period.objects.create(
        organization=org, month=NOV, due_date=datetime.date(2026, 12, 15)
    )
    for a in (a1, a2):
        ledger.post_entries(
            [
                (a, november.id, NOV, "charge", D("600.00"), NOV, None, "", uk.id),
                (a, november.id, NOV, "charge", D("200.00"), NOV, None, "", water.id),
            ]
        )
    bank = Bank.objects.create(organization=org, name="Банк", code="bank")
    return org, november, bank, (a1, a2), (uk.id, water.id)


def _file(bank, payments) -> tuple[PaymentFile, int]:
    after_id = Payment.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    payment_file = PaymentFile.objects.create(bank=bank, name="r.txt", size=1)
    for i, (account_id, amount, paid_at, for_month, payee) in enumerate(payments):
        Payment.objects.create(
            organization=bank.organization,
            bank=bank,
            file=payment_file,
            natural_key=f"K{i}",
            account_id=account_id,
            account_number=str(account_id),
            paid_at=paid_at,
            amount=D(amount),
            for_month=for_month,
            provider_id=payee,
        )
    return payment_file, after_id


def _entries(payment_file) -> list:
    ids = Payment.objects.filter(file=payment_file).values_list("pk", flat=True)
    return list(
        LedgerEntry.objects.filter(kind="payment", source_id__in=list(ids))
        .order_by("account_id", "source_id", "id")
        .values_list("account_id", "concerns_month", "provider_id", "amount", "entry_date")
    )


def at(day: int, hour: int = 12) -> datetime.datetime:
    return datetime.datetime(2026, 11, day, hour, tzinfo=MOSCOW)


def test_it_allocates_oldest_first_split_among_payees(two_payees):
    org, november, bank, (a1, a2), (uk, water) = two_payees
    payment_file, after_id = _file(
        bank,
        [
            # October's 400 in full, then 200 of November: 200 × 600/800 = 150, × 200/800 = 50
            (a1, "600.00", at(5), None, None),
            # names the water company: its 100 + 200, then 50 of advance, all the water company's
            (a2, "350.00", at(6), None, water),
            # all of a2's other debts (300 + 600), then 100 of advance split by November's
            # charges: 100 × 600/800 = 75, 100 × 200/800 = 25
            (a2, "1000.00", at(7), None, None),
        ],
    )
    assert posting.post_imported(november, file_id=payment_file.pk, after_id=after_id) == [a1, a2]
    day5, day6, day7 = (datetime.date(2026, 11, d) for d in (5, 6, 7))
    assert _entries(payment_file) == [
        (a1, OCT, uk, D("-300.00"), day5),
        (a1, OCT, water, D("-100.00"), day5),
        (a1, NOV, uk, D("-150.00"), day5),
        (a1, NOV, water, D("-50.00"), day5),
        (a2, OCT, water, D("-100.00"), day6),
        (a2, NOV, water, D("-200.00"), day6),
        (a2, None, water, D("-50.00"), day6),
        (a2, OCT, uk, D("-300.00"), day7),
        (a2, NOV, uk, D("-600.00"), day7),
        (a2, None, uk, D("-75.00"), day7),
        (a2, None, water, D("-25.00"), day7),
    ]
    # each payee's own balance: a1 owes the company 450 and the water company 150
    dues = ledger.payee_dues(november, [a1, a2])
    assert {p: d.amount for p, d in dues[a1].items()} == {uk: D("450.00"), water: D("150.00")}
    # a2 paid ahead: 75 and 50 + 25, and its QR codes ask for nothing
    assert {p: d.amount for p, d in dues[a2].items()} == {uk: 0, water: 0}


def test_it_splits_an_advance_by_the_latest_charges_before_the_month_is_billed(two_payees):
    org, november, bank, (a1, a2), (uk, water) = two_payees
    LedgerEntry.objects.filter(period=november, kind="charge").delete()  # not billed yet
    payment_file, after_id = _file(bank, [(a1, "500.00", at(2), None, None)])
    posting.post_imported(november, file_id=payment_file.pk, after_id=after_id)
    day = datetime.date(2026, 11, 2)
    # October's 300 + 100, then 100 of advance split by October's charges, 300 : 100 = 75 + 25
    assert _entries(payment_file) == [
        (a1, OCT, uk, D("-300.00"), day),
        (a1, OCT, water, D("-100.00"), day),
        (a1, None, uk, D("-75.00"), day),
        (a1, None, water, D("-25.00"), day),
    ]


def test_it_goes_by_batches_of_accounts(two_payees, monkeypatch):
    org, november, bank, (a1, a2), (uk, water) = two_payees
    payments = [(a, "123.45", at(d), None, None) for d in (3, 4) for a in (a2, a1)]
    payment_file, after_id = _file(bank, payments)
    monkeypatch.setattr(posting, "BATCH", 1)
    posting.post_imported(november, file_id=payment_file.pk, after_id=after_id)
    batched = _entries(payment_file)
    # 123.45 of October's 400: 123.45 × 300/400 = 92.5875 → 92.59, × 100/400 = 30.8625 → 30.86
    assert batched[:2] == [
        (a1, OCT, uk, D("-92.59"), datetime.date(2026, 11, 3)),
        (a1, OCT, water, D("-30.86"), datetime.date(2026, 11, 3)),
    ]
    LedgerEntry.objects.filter(kind="payment").delete()
    monkeypatch.setattr(posting, "BATCH", 5000)
    posting.post_imported(november, file_id=payment_file.pk, after_id=after_id)
    assert _entries(payment_file) == batched


def test_it_leaves_unmatched_payments_alone(two_payees):
    org, november, bank, (a1, a2), _ = two_payees
    payment_file, after_id = _file(bank, [(None, "10.00", at(3), None, None)])
    assert posting.post_imported(november, file_id=payment_file.pk, after_id=after_id) == []
    assert not LedgerEntry.objects.filter(kind="payment").exists()


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
    # every payment's entries add up to the payment, whatever months and payees they went to
    for payment in Payment.objects.filter(file=f):
        parts = LedgerEntry.objects.filter(kind="payment", source_id=payment.pk)
        assert -sum(parts.values_list("amount", flat=True)) == payment.amount


def test_it_dates_payments_in_local_time_across_a_clock_change(two_payees, settings):
    """Berlin leaves summer time on 25.10.2026: payments around midnight on both sides."""
    org, november, bank, (a1, a2), _ = two_payees
    settings.TIME_ZONE = "Europe/Berlin"
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    moments = [(24, 23, 30), (25, 0, 30), (25, 23, 30), (26, 0, 15), (26, 23, 59)]
    payment_file, after_id = _file(
        bank,
        [
            (a1, "1.00", datetime.datetime(2026, 10, day, hour, minute, tzinfo=berlin), None, None)
            for day, hour, minute in moments
        ],
    )
    posting.post_imported(november, file_id=payment_file.pk, after_id=after_id)
    days = [row[4].day for row in _entries(payment_file)]
    # 1.00 each of October's 300 + 100: 0.75 + 0.25, two entries per payment
    assert days == [24, 24, 25, 25, 25, 25, 26, 26, 26, 26]
