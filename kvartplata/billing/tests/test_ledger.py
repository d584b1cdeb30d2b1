"""The set-based ledger steps: charge entries, penalties and balances, exact to the kopeck.

Amounts like 0.10 + 0.20 are chosen because binary floats (how SQLite keeps decimals) get them
wrong; every figure below is checked as an exact Decimal.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kvartplata.billing import ledger
from kvartplata.billing.calc.penalties import Debt, penalties_for_month
from kvartplata.billing.models import AccountBalance, Charge, LedgerEntry, Recalculation
from kvartplata.billing.tests import factories as f
from kvartplata.lib.periods import add_months
from kvartplata.registry.models import Period

D = Decimal
JAN, FEB, MAR, APR, MAY = (datetime.date(2026, m, 1) for m in range(1, 6))
pytestmark = pytest.mark.django_db


class Book:
    """An organization with accounts and two services, its months opened one after another.

    A closed month takes no more rows (the database refuses them), so a test writes each
    month's entries before it opens the next.
    """

    def __init__(self, n_accounts: int, **org_fields):
        self.org = f.organization(**org_fields)
        prov = f.provider(self.org)
        bld = f.building(self.org)
        self.ids = [f.account(self.org, bld, str(i + 1), area="50").id for i in range(n_accounts)]
        self.services = [
            f.service(self.org, prov, "maint", method="area", price="30", unit="m2"),
            f.service(self.org, prov, "repair", method="area", price="10", unit="m2"),
        ]
        self.period: Period | None = None

    def open(self, month: datetime.date) -> Period:
        if self.period is not None:
            Period.objects.filter(id=self.period.id).update(state=Period.State.CLOSED)
        self.period = Period.objects.create(
            organization=self.org, month=month, due_date=ledger.due_date(self.org, month)
        )
        return self.period


def charge(account_id, period, service, amount, zone=0):
    return Charge.objects.create(
        account_id=account_id,
        period=period,
        service=service,
        zone=zone,
        method=Charge.Method.AREA,
        volume=D("1"),
        tariff=D(amount),
        amount=D(amount),
    )


def entry(account_id, period, kind, amount, *, month="same", on=None, note="", payee=None):
    """A journal entry; `month` is the month it concerns (that of the period by default)."""
    concerns = period.month if month == "same" else month
    ledger.post_entries(
        [
            (
                account_id,
                period.id,
                concerns,
                kind,
                D(amount),
                on or period.month,
                None,
                note,
                payee,
            )
        ]
    )


def entries(period, kind):
    return list(
        LedgerEntry.objects.filter(period=period, kind=kind)
        .order_by("account_id", "id")
        .values_list("account_id", "amount", "note")
    )


# --- charges ----------------------------------------------------------------------------------


def test_post_charges_books_each_accounts_lines_summed_in_kopecks():
    book = Book(3)
    (a1, a2, a3), (s1, s2) = book.ids, book.services
    april = book.open(APR)
    charge(a1, april, s1, "0.10")
    charge(a1, april, s2, "0.20")  # 0.1 + 0.2 is 0.30000000000000004 in floats
    charge(a2, april, s1, "99999.99")
    charge(a2, april, s2, "0.01")
    charge(a3, april, s1, "5.00")
    charge(a3, april, s2, "-5.00")  # adds up to zero: no entry
    entry(a2, april, "charge", "1.00")  # a stale entry of an earlier run is replaced

    assert ledger.post_charges(april, None) == 2
    assert ledger.post_charges(april, None) == 2  # again: the same, not doubled

    rows = list(
        LedgerEntry.objects.filter(period=april, kind="charge")
        .order_by("account_id")
        .values("account_id", "amount", "concerns_month", "entry_date", "source_id", "note")
    )
    assert rows == [
        {
            "account_id": a1,
            "amount": D("0.30"),
            "concerns_month": APR,
            "entry_date": APR,
            "source_id": None,
            "note": "",
        },
        {
            "account_id": a2,
            "amount": D("100000.00"),  # 99 999,99 + 0,01
            "concerns_month": APR,
            "entry_date": APR,
            "source_id": None,
            "note": "",
        },
    ]
    assert not LedgerEntry.objects.filter(period=april, created_at=None).exists()


def test_post_charges_keeps_the_run_id_and_leaves_other_kinds_alone():
    book = Book(1)
    (a1,), (s1, _) = book.ids, book.services
    april = book.open(APR)
    charge(a1, april, s1, "12.34")
    entry(a1, april, "payment", "-5.00")
    run = april.runs.create(organization=book.org, status="done")
    ledger.post_charges(april, run.id)
    assert list(
        LedgerEntry.objects.filter(period=april).order_by("kind").values_list("kind", "source_id")
    ) == [("charge", run.id), ("payment", None)]


def test_post_charges_books_one_entry_per_payee_and_tags_recalculations():
    book = Book(2)
    (a1, a2), (s1, s2) = book.ids, book.services
    water = f.provider(book.org)
    s2.provider = water
    s2.save()
    april = book.open(APR)
    charge(a1, april, s1, "0.10")
    charge(a1, april, s2, "0.20")
    charge(a2, april, s1, "7.00")
    recalc = Recalculation.objects.create(
        account_id=a1,
        period=april,
        concerns_month=MAR,
        service=s2,
        amount=D("-1.00"),
        reason="показания",
        source=Recalculation.Source.LATE_READINGS,
    )
    # as the run writes it: without a payee
    ledger.post_entries([(a1, april.id, MAR, "recalculation", D("-1.00"), APR, recalc.id, "")])

    assert ledger.post_charges(april, None) == 3
    payees = list(
        LedgerEntry.objects.filter(period=april)
        .order_by("account_id", "kind", "provider_id")
        .values_list("account_id", "kind", "provider_id", "amount")
    )
    assert payees == [
        (a1, "charge", s1.provider_id, D("0.10")),
        (a1, "charge", water.id, D("0.20")),
        (a1, "recalculation", water.id, D("-1.00")),  # its service's payee
        (a2, "charge", s1.provider_id, D("7.00")),
    ]
    # a list of accounts (the charges import): only theirs are redone, with the note given
    charge(a2, april, s2, "3.00")
    assert ledger.post_charges(april, None, [a2], note="загрузка") == 2
    assert sorted(entries(april, "charge")[-2:]) == [
        (a2, D("3.00"), "загрузка"),
        (a2, D("7.00"), "загрузка"),
    ]
    assert entries(april, "charge")[0] == (a1, D("0.10"), "")


# --- balances ---------------------------------------------------------------------------------


def balance(period, account_id):
    row = AccountBalance.objects.get(period=period, account_id=account_id)
    return (
        row.opening,
        row.charges,
        row.recalculations,
        row.penalties,
        row.payments,
        row.closing,
    )


def test_refresh_balances_adds_up_the_journal_exactly():
    book = Book(3)
    a1, a2, a3 = book.ids
    march = book.open(MAR)
    entry(a1, march, "charge", "100.10")
    entry(a2, march, "payment", "-20.00", month=None)  # an advance
    assert ledger.refresh_balances(march) == 3
    # March has no month before it: everything opens at zero.
    assert balance(march, a1) == (0, D("100.10"), 0, 0, 0, D("100.10"))
    assert balance(march, a2) == (0, 0, 0, 0, D("20.00"), D("-20.00"))

    april = book.open(APR)
    entry(a1, april, "charge", "0.10")
    entry(a1, april, "correction", "0.20")
    entry(a1, april, "recalculation", "-0.70", month=MAR)
    entry(a1, april, "penalty", "0.01", month=None)
    entry(a1, april, "payment", "-25.03")
    entry(a1, april, "payment", "-25.02", on=datetime.date(2026, 4, 20))
    assert ledger.refresh_balances(april) == 3

    # 100.10 + (0.10 + 0.20) − 0.70 + 0.01 − (25.03 + 25.02) = 49.66
    assert balance(april, a1) == (
        D("100.10"),
        D("0.30"),
        D("-0.70"),
        D("0.01"),
        D("50.05"),
        D("49.66"),
    )
    assert balance(april, a2) == (D("-20.00"), 0, 0, 0, 0, D("-20.00"))
    assert balance(april, a3) == (0, 0, 0, 0, 0, 0)
    for account_id in (a1, a2, a3):
        journal = sum(
            LedgerEntry.objects.filter(account_id=account_id).values_list("amount", flat=True),
            D(0),
        )
        assert balance(april, account_id)[-1] == journal


def test_refresh_balances_of_a_list_redoes_only_those_accounts(monkeypatch):
    book = Book(3)
    a1, a2, a3 = book.ids
    march = book.open(MAR)
    entry(a1, march, "charge", "10.00")
    ledger.refresh_balances(march)
    april = book.open(APR)
    ledger.refresh_balances(april)
    entry(a1, april, "payment", "-3.33")
    entry(a2, april, "charge", "7.77")

    assert ledger.refresh_balances(april, [a1, a1]) == 1  # a repeated id is one account
    assert balance(april, a1) == (D("10.00"), 0, 0, 0, D("3.33"), D("6.67"))
    assert balance(april, a2) == (0, 0, 0, 0, 0, 0)  # not asked: unchanged

    monkeypatch.setattr(ledger, "BATCH", 2)  # three accounts in two batches
    assert ledger.refresh_balances(april, [a3, a2, a1]) == 3
    assert balance(april, a2) == (0, D("7.77"), 0, 0, 0, D("7.77"))
    assert AccountBalance.objects.filter(period=april).count() == 3
    list_form = {a: balance(april, a) for a in (a1, a2, a3)}
    ledger.refresh_balances(april)
    assert {a: balance(april, a) for a in (a1, a2, a3)} == list_form


# --- penalties --------------------------------------------------------------------------------


@pytest.fixture
def debtors_world():
    """Debts of January–March 2026, May open: the penalties accrued in April.

    The due date is the 15th of the next month; a debt accrues from day 31 after it, at 9.5 % ×
    1/300 a day until day 90. January (due 15.02) accrues on every day of April, February (due
    15.03) from 15.04, March (due 15.04) not before 16.05.
    """
    book = Book(7)
    ids, (s1, _) = book.ids, book.services
    a1, a2, a3, a4, a5, a6, a7 = ids
    jan = book.open(JAN)
    for account_id in (a1, a3, a4, a5, a6, a7):
        entry(account_id, jan, "charge", "1000.00")
    feb = book.open(FEB)
    entry(a2, feb, "charge", "300.00")
    mar = book.open(MAR)
    entry(a2, mar, "charge", "500.00")  # still in its grace days in April
    entry(a3, mar, "payment", "-1000.00", month=JAN, on=datetime.date(2026, 3, 20))
    entry(a5, mar, "payment", "-1000.00", month=None, on=datetime.date(2026, 3, 1))  # advance
    apr = book.open(APR)
    entry(a4, apr, "payment", "-400.00", month=JAN, on=datetime.date(2026, 4, 10))
    entry(a7, apr, "recalculation", "-1000.00", month=JAN)
    may = book.open(MAY)
    for account_id in (a1, a2, a3, a4, a5, a7):  # a6 is not billed in May
        charge(account_id, may, s1, "50.00")
    return book.org, ids, may


def test_post_penalties_hand_computed(debtors_world):
    org, (a1, a2, a3, a4, a5, a6, a7), may = debtors_world
    assert ledger.last_accruing_month(may) == FEB
    # a5 owes January in the journal but its advance pays it: a candidate with no penalty.
    # a6 is not billed in May (a closed account): its overdue January debt still accrues.
    assert ledger.penalty_debtors(may) == [a1, a2, a4, a5, a6]

    assert ledger.post_penalties(may) == 4
    assert entries(may, "penalty") == [
        # 1000 × 9.5 × 30 days / (100 × 300) = 9.50
        (a1, D("9.50"), "пени за 01.2026"),
        # 300 × 9.5 × 16 days (15–30.04) / 30 000 = 1.52
        (a2, D("1.52"), "пени за 02.2026"),
        # paid 400 on 10.04: (1000 × 10 days + 600 × 20 days) × 9.5 / 30 000 = 6.9666… → 6.97
        (a4, D("6.97"), "пени за 01.2026"),
        # not billed in May, owes January: 1000 × 9.5 × 30 / 30 000 = 9.50
        (a6, D("9.50"), "пени за 01.2026"),
    ]
    row = LedgerEntry.objects.get(period=may, kind="penalty", account_id=a1)
    assert (row.concerns_month, row.entry_date, row.source_id) == (None, MAY, None)

    assert ledger.post_penalties(may) == 4  # again: replaced, not doubled
    assert LedgerEntry.objects.filter(period=may, kind="penalty").count() == 4


def test_post_penalties_for_a_list_of_accounts(debtors_world, monkeypatch):
    org, (a1, a2, a3, a4, a5, a6, a7), may = debtors_world
    monkeypatch.setattr(ledger, "BATCH", 2)
    assert ledger.penalty_debtors(may, [a7, a6, a5, a3, a1]) == [a1, a5, a6]
    assert ledger.post_penalties(may, [a6, a3, a1]) == 2
    assert entries(may, "penalty") == [
        (a1, D("9.50"), "пени за 01.2026"),
        (a6, D("9.50"), "пени за 01.2026"),
    ]


def test_post_penalties_when_nothing_is_billed_looks_at_every_account(debtors_world):
    org, (a1, a2, a3, a4, a5, a6, a7), may = debtors_world
    Charge.objects.filter(period=may).delete()
    assert ledger.post_penalties(may) == 4
    assert [a for a, _, _ in entries(may, "penalty")] == [a1, a2, a4, a6]


def test_post_penalties_per_payee_follow_the_debt_they_accrue_on():
    book = Book(1)
    (a1,) = book.ids
    water = f.provider(book.org)
    uk = book.services[0].provider_id
    jan = book.open(JAN)
    ledger.post_entries(
        [
            (a1, jan.id, JAN, "charge", D("600.00"), JAN, None, "", uk),
            (a1, jan.id, JAN, "charge", D("400.00"), JAN, None, "", water.id),
        ]
    )
    book.open(FEB)
    book.open(MAR)
    apr = book.open(APR)
    # 300 paid to the water company on 10.04: its debt is 400 for 1–10 April, 100 after
    ledger.post_entries(
        [(a1, apr.id, JAN, "payment", D("-300.00"), datetime.date(2026, 4, 10), None, "", water.id)]
    )
    may = book.open(MAY)
    assert ledger.post_penalties(may) == 2
    assert sorted(
        LedgerEntry.objects.filter(period=may, kind="penalty").values_list("provider_id", "amount")
    ) == sorted(
        [
            # 600 × 9.5 × 30 / 30 000 = 5.70
            (uk, D("5.70")),
            # (400 × 10 + 100 × 20) × 9.5 / 30 000 = 1.90
            (water.id, D("1.90")),
        ]
    )


def test_post_penalties_accrue_on_a_recalculation_from_the_due_date_of_its_receipt():
    """+1 000 ₽ correcting February, booked in May: the May receipt shows it first, so it is
    due on 15.06 and accrues from 16.07 (day 31), not from 15.04 as February's charge did."""
    book = Book(1)
    (a1,) = book.ids
    feb = book.open(FEB)
    entry(a1, feb, "charge", "500.00")
    entry(a1, feb, "payment", "-500.00", on=datetime.date(2026, 2, 20))  # February paid
    book.open(MAR)
    book.open(APR)
    may = book.open(MAY)
    entry(a1, may, "recalculation", "1000.00", month=FEB)
    assert ledger.open_debts([a1]) == {a1: {(MAY, None): D("1000.00")}}
    jun = book.open(datetime.date(2026, 6, 1))
    # Before the fix: February's due date 15.03, May all accruing: 1000 × 9.5 × 31 / 30 000.
    assert ledger.post_penalties(jun) == 0
    book.open(datetime.date(2026, 7, 1))
    aug = book.open(datetime.date(2026, 8, 1))
    # Due 15.06; 16.07 is day 31: 16–31 July, 16 days × 1000 × 9.5 / 30 000 = 5.0666… → 5.07
    assert ledger.post_penalties(aug) == 1
    assert entries(aug, "penalty") == [(a1, D("5.07"), "пени за 05.2026")]


def test_open_debts_goes_by_batches(debtors_world, monkeypatch):
    org, ids, may = debtors_world
    whole = ledger.open_debts(ids)
    monkeypatch.setattr(ledger, "BATCH", 3)
    assert ledger.open_debts(ids) == whole
    a1, a2 = ids[:2]
    assert whole[a1] == {(JAN, None): D("1000.00")}
    assert whole[a2] == {(FEB, None): D("300.00"), (MAR, None): D("500.00")}


# --- penalties against the rules applied to every account --------------------------------------


def reference_penalties(period: Period, account_ids) -> list[tuple[int, Decimal, str]]:
    """The rules applied to every account, with no SQL preselection (as the ledger did before)."""
    start = add_months(period.month, -1)
    end = period.month - datetime.timedelta(days=1)
    debts_before = ledger.open_debts(account_ids, on=start)
    repayments = ledger._repayments(account_ids, start, end)
    rates, pauses = ledger.rate_table(), ledger.moratoria()
    lines = []
    for account_id in sorted(account_ids):
        debts = [
            Debt(
                month=month,
                due_date=ledger.due_date(period.organization, month),
                amount=amount,
                repayments=tuple(repayments.get((account_id, month, payee), ())),
                payee=payee,
            )
            for (month, payee), amount in debts_before.get(account_id, {}).items()
            if month < period.month
        ]
        for line in penalties_for_month(
            debts, month_start=start, month_end=end, rates=rates, moratoria=pauses
        ):
            lines.append((account_id, line.amount, f"пени за {line.month:%m.%Y}"))
    return sorted(lines)


MONTHS = [add_months(datetime.date(2025, 10, 1), i) for i in range(8)]  # 10.2025 … 05.2026
cents = st.integers(min_value=-50000, max_value=300000).map(lambda c: D(c) / 100)
journal_entry = st.tuples(
    st.sampled_from(["charge", "payment", "recalculation", "correction"]),
    st.integers(0, len(MONTHS) - 1),  # the period it is booked in
    st.one_of(st.none(), st.integers(0, len(MONTHS) - 1)),  # the month it concerns
    st.integers(0, 30),  # the day of the entry within its period
    cents,
    st.booleans(),  # due to the services' provider, or to the organization itself
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    journal=st.lists(st.tuples(st.integers(0, 3), journal_entry), max_size=30),
    due_day=st.integers(1, 28),
    billed=st.sets(st.integers(0, 3)),
)
def test_post_penalties_matches_the_rules_on_every_account(journal, due_day, billed):
    sid = transaction.savepoint()
    try:
        book = Book(4, due_day=due_day)
        ids, (s1, _) = book.ids, book.services
        for month in MONTHS:
            period = book.open(month)
            for who, (kind, booked, concerns, day, amount, provider) in journal:
                if MONTHS[booked] != month:
                    continue
                concerns_month = MONTHS[concerns] if concerns is not None else None
                if kind != "payment" and concerns_month is None:
                    concerns_month = month
                on = month + datetime.timedelta(days=day)
                payee = s1.provider_id if provider else None
                entry(ids[who], period, kind, amount, month=concerns_month, on=on, payee=payee)
        for who in billed:
            charge(ids[who], period, s1, "1.00")
        expected = reference_penalties(period, ids)  # billed in the month or not
        event("with penalties" if expected else "without penalties")
        assert {a for a, _, _ in expected} <= set(ledger.penalty_debtors(period))
        ledger.post_penalties(period)
        assert sorted(entries(period, "penalty")) == expected
        ledger.post_penalties(period, ids)
        assert sorted(entries(period, "penalty")) == reference_penalties(period, ids)
    finally:
        transaction.savepoint_rollback(sid)


# --- debt per payee against the account's total -------------------------------------------------

payee_entry = st.tuples(
    st.sampled_from(["charge", "payment", "recalculation", "penalty"]),
    st.integers(0, 2),  # the payee: the services' provider, the water company, none
    st.integers(0, 2),  # the period it is booked in
    st.integers(1, 300000).map(lambda c: D(c) / 100),
)
paid = st.tuples(
    st.integers(1, 28), st.integers(1, 500000).map(lambda c: D(c) / 100), st.integers(0, 3)
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    journal=st.lists(st.tuples(st.integers(0, 1), payee_entry), max_size=20),
    payments=st.lists(st.tuples(st.integers(0, 1), paid), max_size=8),
)
def test_payee_dues_add_up_to_the_accounts_balance(journal, payments):
    sid = transaction.savepoint()
    try:
        book = Book(2)
        water = f.provider(book.org)
        payees = [book.services[0].provider_id, water.id, None]
        for index, month in enumerate((MAR, APR, MAY)):
            period = book.open(month)
            ledger.post_entries(
                (
                    book.ids[who],
                    period.id,
                    None if kind == "penalty" else month,
                    kind,
                    -amount if kind == "payment" else amount,
                    month,
                    None,
                    "",
                    payees[payee],
                )
                for who, (kind, payee, booked, amount) in journal
                if booked == index
            )
            ledger.refresh_balances(period)
        posts = [
            {
                "id": i + 1,
                "account_id": book.ids[who],
                "amount": amount,
                "paid_on": MAY + datetime.timedelta(days=day - 1),
                "for_month": None,
                "provider_id": payees[named] if named < 2 else None,
            }
            for i, (who, (day, amount, named)) in enumerate(payments)
        ]
        ledger.post_payments(period, posts)
        ledger.refresh_balances(period)
        dues = ledger.payee_dues(period, book.ids)
        for account_id in book.ids:
            closing = AccountBalance.objects.get(period=period, account_id=account_id).closing
            # the sum over payees of (old debt − advance + month) is the account's balance
            by_payee = dues.get(account_id, {}).values()
            assert sum((d.debt - d.advance + d.month for d in by_payee), D(0)) == closing
            assert all(d.amount >= 0 for d in by_payee)
        for post in posts:  # every payment is split whole, each part to one payee
            parts = LedgerEntry.objects.filter(kind="payment", source_id=post["id"])
            assert -sum(parts.values_list("amount", flat=True)) == post["amount"]
            if post["provider_id"] is not None:
                assert set(parts.values_list("provider_id", flat=True)) == {post["provider_id"]}
    finally:
        transaction.savepoint_rollback(sid)


def test_payment_rows_copy_text_writes_a_missing_id_and_month_as_null():
    text = ledger.payment_rows_copy_text(
        [(7, 3, None, "payment", Decimal("-12.50"), datetime.date(2026, 11, 25), None, "", None)]
    ).decode()
    fields = text.rstrip("\n").split("\t")
    assert fields[:9] == ["7", "3", "\\N", "payment", "-12.50", "2026-11-25", "\\N", "", "\\N"]
