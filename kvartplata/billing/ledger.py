"""The ledger: posting charges, recalculations, penalties and payments, and materialized balances.

Every money movement of an account is a `LedgerEntry`; balances per month are derived from the
journal and materialized in `AccountBalance` (set-based, a few queries per batch of accounts).
Entries carry signed amounts: + raises the debt, − lowers it.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db import connection

from kvartplata.billing.calc.penalties import (
    DEFAULT_KEY_RATES,
    Debt,
    Moratorium,
    RateTable,
    allocate_payment,
    penalties_for_month,
)
from kvartplata.billing.models import (
    AccountBalance,
    KeyRate,
    LedgerEntry,
    Period,
    Recalculation,
)
from kvartplata.billing.models import Moratorium as MoratoriumRow
from kvartplata.lib.db import bulk_insert, from_kopecks, kopecks_sum
from kvartplata.lib.periods import add_months

ZERO = Decimal("0.00")
BATCH = 5000
ENTRY_COLUMNS = [
    "account_id",
    "period_id",
    "concerns_month",
    "kind",
    "amount",
    "entry_date",
    "source_id",
    "note",
    "created_at",
]
MONEY_KINDS = ("charge", "recalculation", "correction", "payment")


def due_date(organization, month: datetime.date) -> datetime.date:
    """Payment of a month's charges is due on the organization's day of the next month."""
    following = add_months(month, 1)
    return following.replace(day=min(organization.due_day or 15, 28))


def _chunks(items: Sequence, size: int = BATCH):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def post_entries(rows: Iterable[tuple]) -> int:
    """Write ledger rows (account, period, concerns_month, kind, amount, date, source, note)."""
    now = datetime.datetime.now(datetime.UTC)
    return bulk_insert("billing_ledgerentry", ENTRY_COLUMNS, (tuple(row) + (now,) for row in rows))


def post_charges(period: Period, totals: dict[int, Decimal], run_id: int | None) -> int:
    """Replace the charge entries of an open period by one entry per account."""
    LedgerEntry.objects.filter(period=period, kind=LedgerEntry.Kind.CHARGE).delete()
    return post_entries(
        (account_id, period.id, period.month, "charge", amount, period.month, run_id, "")
        for account_id, amount in totals.items()
        if amount != 0
    )


def post_recalculations(period: Period, recalculations: Sequence[Recalculation]) -> int:
    """One entry per recalculation, dated the first day of the month it is booked in."""
    return post_entries(
        (
            r.account_id,
            period.id,
            r.concerns_month,
            "recalculation",
            r.amount,
            period.month,
            r.id,
            r.reason[:255],
        )
        for r in recalculations
    )


def unpost_auto_recalculations(period: Period) -> None:
    ids = Recalculation.objects.filter(
        period=period, source=Recalculation.Source.LATE_READINGS
    ).values_list("id", flat=True)
    LedgerEntry.objects.filter(
        period=period, kind=LedgerEntry.Kind.RECALCULATION, source_id__in=list(ids)
    ).delete()


# --- debts ------------------------------------------------------------------------------------


def open_debts(account_ids: Sequence[int], *, on: datetime.date | None = None) -> dict:
    """Per account: {month: unpaid amount} of charges, after payments and any advance.

    `on` limits payments to those dated before that day (for penalties of a past month).
    """
    if not account_ids:
        return {}
    placeholders = ", ".join(["%s"] * len(account_ids))
    params: list = list(account_ids)
    date_filter = ""
    if on is not None:
        date_filter = "AND (kind <> 'payment' OR entry_date < %s)"
        params.append(on)
    sql = f"""
        SELECT account_id, concerns_month, {kopecks_sum("amount")}
        FROM billing_ledgerentry
        WHERE account_id IN ({placeholders}) AND kind <> 'penalty' {date_filter}
        GROUP BY account_id, concerns_month
    """  # noqa: S608
    net: dict[int, dict] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for account_id, month, kopecks in cursor.fetchall():
            if isinstance(month, str):
                month = datetime.date.fromisoformat(month)
            net[account_id][month] = from_kopecks(kopecks)
    debts: dict[int, dict] = {}
    for account_id, months in net.items():
        advance = -months.pop(None, ZERO)
        unpaid = {}
        for month in sorted(months):
            amount = months[month]
            if amount <= 0:
                advance -= amount  # an overpaid month works as an advance
                continue
            if advance > 0:
                used = min(advance, amount)
                amount -= used
                advance -= used
            if amount > 0:
                unpaid[month] = amount
        debts[account_id] = unpaid
    return debts


# --- payments ---------------------------------------------------------------------------------


def post_payments(period: Period, payments: Sequence[dict]) -> int:
    """Allocate matched payments to months (named month first, then oldest) and post them.

    Each payment is a dict with id, account_id, amount, paid_on (date) and for_month (or None).
    Allocation is recorded as one entry per month paid, so it can be explained later.
    """
    count = 0
    by_account: dict[int, list[dict]] = defaultdict(list)
    for p in payments:
        by_account[p["account_id"]].append(p)
    account_ids = sorted(by_account)
    for chunk in _chunks(account_ids):
        debts = open_debts(chunk)
        rows = []
        for account_id in chunk:
            unpaid = dict(debts.get(account_id, {}))
            for p in sorted(by_account[account_id], key=lambda x: (x["paid_on"], x["id"])):
                for month, part in allocate_payment(p["amount"], unpaid, p.get("for_month")):
                    rows.append(
                        (
                            account_id,
                            period.id,
                            month,
                            "payment",
                            -part,
                            p["paid_on"],
                            p["id"],
                            "",
                        )
                    )
                    if month is not None:
                        unpaid[month] -= part
        count += post_entries(rows)
    return count


# --- penalties --------------------------------------------------------------------------------


def rate_table() -> RateTable:
    rows = tuple(KeyRate.objects.order_by("valid_from").values_list("valid_from", "rate"))
    if not rows:
        return DEFAULT_KEY_RATES
    return RateTable(entries=rows, until=DEFAULT_KEY_RATES.until)


def moratoria() -> tuple[Moratorium, ...]:
    return tuple(
        Moratorium(m.start, m.end, m.debts_due_before) for m in MoratoriumRow.objects.all()
    )


def post_penalties(period: Period, account_ids: Sequence[int]) -> int:
    """Penalties accrued over the previous calendar month, booked in this period.

    A month's receipt shows the penalty for the month before it, as ЕПД do: by then every
    payment dated in that month is known.
    """
    LedgerEntry.objects.filter(period=period, kind=LedgerEntry.Kind.PENALTY).delete()
    organization = period.organization
    start = add_months(period.month, -1)
    end = period.month - datetime.timedelta(days=1)
    rates, pauses = rate_table(), moratoria()
    count = 0
    for chunk in _chunks(list(account_ids)):
        # Debts at the start of the month, then the repayments dated inside it.
        debts_before = open_debts(chunk, on=start)
        repayments = _repayments(chunk, start, end)
        rows = []
        for account_id in chunk:
            unpaid = debts_before.get(account_id, {})
            if not unpaid:
                continue
            debts = [
                Debt(
                    month=month,
                    due_date=due_date(organization, month),
                    amount=amount,
                    repayments=tuple(repayments.get((account_id, month), ())),
                )
                for month, amount in unpaid.items()
                if month < period.month
            ]
            for line in penalties_for_month(
                debts, month_start=start, month_end=end, rates=rates, moratoria=pauses
            ):
                rows.append(
                    (
                        account_id,
                        period.id,
                        None,
                        "penalty",
                        line.amount,
                        period.month,
                        None,
                        f"пени за {line.month:%m.%Y}",
                    )
                )
        count += post_entries(rows)
    return count


def _repayments(account_ids, start, end) -> dict:
    found: dict = defaultdict(list)
    for account_id, month, day, amount in LedgerEntry.objects.filter(
        account_id__in=account_ids,
        kind=LedgerEntry.Kind.PAYMENT,
        entry_date__gte=start,
        entry_date__lte=end,
        concerns_month__isnull=False,
    ).values_list("account_id", "concerns_month", "entry_date", "amount"):
        found[(account_id, month)].append((day, -amount))
    return found


# --- balances ---------------------------------------------------------------------------------


def refresh_balances(period: Period, account_ids: Sequence[int] | None = None) -> int:
    """Materialize the money movement of a month from the journal (all or some accounts)."""
    previous = Period.objects.filter(
        organization=period.organization, month=add_months(period.month, -1)
    ).first()
    if account_ids is None:
        account_ids = list(period.organization.accounts.order_by("id").values_list("id", flat=True))
    count = 0
    for chunk in _chunks(list(account_ids)):
        AccountBalance.objects.filter(period=period, account_id__in=chunk).delete()
        opening: dict[int, Decimal] = {}
        if previous is not None:
            opening = dict(
                AccountBalance.objects.filter(period=previous, account_id__in=chunk).values_list(
                    "account_id", "closing"
                )
            )
        sums = movement(period, chunk)
        rows = []
        for account_id in chunk:
            s = sums.get(account_id, {})
            start = opening.get(account_id, ZERO)
            charges = s.get("charge", ZERO) + s.get("correction", ZERO)
            recalcs = s.get("recalculation", ZERO)
            penalties = s.get("penalty", ZERO)
            paid = -s.get("payment", ZERO)
            closing = start + charges + recalcs + penalties - paid
            rows.append(
                (
                    account_id,
                    period.id,
                    period.month,
                    start,
                    charges,
                    recalcs,
                    penalties,
                    paid,
                    closing,
                )
            )
        count += bulk_insert(
            "billing_accountbalance",
            [
                "account_id",
                "period_id",
                "month",
                "opening",
                "charges",
                "recalculations",
                "penalties",
                "payments",
                "closing",
            ],
            rows,
        )
    return count


def movement(period: Period, account_ids: Sequence[int]) -> dict[int, dict[str, Decimal]]:
    """Sums of the journal of one period by account and kind, exact on every backend."""
    if not account_ids:
        return {}
    placeholders = ", ".join(["%s"] * len(account_ids))
    sql = f"""
        SELECT account_id, kind, {kopecks_sum("amount")}
        FROM billing_ledgerentry
        WHERE period_id = %s AND account_id IN ({placeholders})
        GROUP BY account_id, kind
    """  # noqa: S608
    result: dict[int, dict[str, Decimal]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(sql, [period.id, *account_ids])
        for account_id, kind, kopecks in cursor.fetchall():
            result[account_id][kind] = from_kopecks(kopecks)
    return result
