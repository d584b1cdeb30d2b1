"""The ledger: posting charges, recalculations, penalties and payments, and materialized balances.

Every money movement of an account is a `LedgerEntry`; balances per month are derived from the
journal and materialized in `AccountBalance` (set-based, a few queries per batch of accounts).
Entries carry signed amounts: + raises the debt, − lowers it, and name their payee (`provider`,
that of the service; None: the organization itself), so that what is owed is known per payee.
How payments pay debts, per month and payee, is `calc.allocation`: `post_payments` applies it
for every payment; penalties accrue per payee on that payee's debts (`calc.penalties`).
"""

import datetime
import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from kvartplata.billing.calc import allocation
from kvartplata.billing.calc.penalties import (
    DEFAULT_KEY_RATES,
    GRACE_DAYS,
    Debt,
    Moratorium,
    RateTable,
    penalties_for_month,
)
from kvartplata.billing.models import AccountBalance, KeyRate, LedgerEntry, Recalculation, Service
from kvartplata.billing.models import Moratorium as MoratoriumRow
from kvartplata.lib.db import as_kopecks, bulk_insert, from_kopecks, kopecks_sum
from kvartplata.lib.periods import add_months
from kvartplata.registry.models import Period

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
    "provider_id",
    "created_at",
]
MONEY_KINDS = ("charge", "recalculation", "correction", "payment")
# A recalculation that raises the bill (`e` the entry, `bp` its period): a debt of the month it is
# booked in (`calc.allocation.debt_month`).
RAISING = "CASE WHEN e.kind = 'recalculation' AND e.amount > 0 THEN 1 ELSE 0 END"
# The same month in SQL, for the candidates of `penalty_debtors` only (a filter whose superset of
# the rule's debtors the property test checks); debts themselves go through `calc`.
DEBT_MONTH = (
    "CASE WHEN e.kind = 'recalculation' AND e.amount > 0 THEN bp.month ELSE e.concerns_month END"
)
# A money column in integer kopecks: SQLite keeps decimals as binary floats, so sums and
# differences are done on these integers and divided by 100 only when stored.


def due_date(organization, month: datetime.date) -> datetime.date:
    """Payment of a month's charges is due on the organization's day of the next month."""
    following = add_months(month, 1)
    return following.replace(day=min(organization.due_day or 15, 28))


def chunks(items: Sequence, size: int | None = None):
    size = size or BATCH  # read at call time, so that tests can make batches small
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _now_value():
    """The current time as a parameter of raw SQL, stored as the ORM stores `created_at`."""
    return connection.ops.adapt_datetimefield_value(timezone.now())


def _in(column: str, values: Sequence) -> str:
    return f"{column} IN ({', '.join(['%s'] * len(values))})"


def post_entries(rows: Iterable[tuple]) -> int:
    """Write ledger rows (account, period, concerns_month, kind, amount, date, source, note[,
    provider]); a row without a provider is the organization's own."""
    now = datetime.datetime.now(datetime.UTC)
    return bulk_insert(
        "billing_ledgerentry",
        ENTRY_COLUMNS,
        ((*row, None, now) if len(row) == 8 else (*row, now) for row in rows),
    )


def post_charges(
    period: Period, run_id: int | None, account_ids: Sequence[int] | None = None, *, note=""
) -> int:
    """Replace the charge entries of an open period (of all accounts, or of `account_ids`) by
    one entry per account and payee: the sum of its lines of that payee's services.

    One INSERT … SELECT over the period's charge lines (per batch of a list), summed in integer
    kopecks (exact on SQLite too); an account and payee whose lines add up to zero get no entry.
    The run's late-readings recalculations (written by the run itself) get their payees here.
    """
    kopecks = f"SUM({as_kopecks('c.amount')})"

    def insert(scope: str, scope_params: list) -> int:
        sql = f"""
            INSERT INTO billing_ledgerentry ({", ".join(ENTRY_COLUMNS)})
            SELECT c.account_id, %s, %s, 'charge', {kopecks} / 100.0, %s, %s, %s,
                s.provider_id, %s
            FROM billing_charge c JOIN billing_service s ON s.id = c.service_id
            WHERE c.period_id = %s {scope}
            GROUP BY c.account_id, s.provider_id
            HAVING {kopecks} <> 0
            ORDER BY c.account_id
        """  # noqa: S608 - only constant SQL and placeholders are formatted in
        params = [period.id, period.month, period.month, run_id, note, _now_value(), period.id]
        with connection.cursor() as cursor:
            cursor.execute(sql, params + scope_params)
            return cursor.rowcount

    entries = LedgerEntry.objects.filter(period=period, kind=LedgerEntry.Kind.CHARGE)
    if account_ids is None:
        entries.delete()
        count = insert("", [])
    else:
        count = 0
        for chunk in chunks(sorted(set(account_ids))):
            entries.filter(account_id__in=chunk).delete()
            count += insert(f"AND {_in('c.account_id', chunk)}", list(chunk))
    tag_recalculation_payees(period)
    return count


def tag_recalculation_payees(period: Period) -> int:
    """Give the period's recalculation entries that name no payee that of their service."""
    sql = """
        UPDATE billing_ledgerentry SET provider_id = (
            SELECT s.provider_id FROM billing_recalculation r
            JOIN billing_service s ON s.id = r.service_id
            WHERE r.id = billing_ledgerentry.source_id
        )
        WHERE period_id = %s AND kind = 'recalculation' AND provider_id IS NULL
            AND source_id IN (
                SELECT id FROM billing_recalculation
                WHERE period_id = %s AND service_id IS NOT NULL
            )
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [period.id, period.id])
        return cursor.rowcount


def post_recalculations(period: Period, recalculations: Sequence[Recalculation]) -> int:
    """One entry per recalculation, dated the first day of the month it is booked in; its
    payee is that of its service (none: the organization's own)."""
    service_ids = {r.service_id for r in recalculations if r.service_id}
    payees = dict(Service.objects.filter(id__in=service_ids).values_list("id", "provider_id"))
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
            payees.get(r.service_id),
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
    """Per account: {(debt month, payee): unpaid amount}, after payments and advances
    (`calc.allocation.open_debts`; the debt month of an entry is `calc.allocation.debt_month`).

    `on` limits payments to those dated before that day (for penalties of a past month).
    One query per batch of accounts.
    """
    debts: dict[int, dict] = {}
    for chunk in chunks(list(account_ids)):
        debts.update(_open_debts(chunk, on))
    return debts


def _open_debts(account_ids: Sequence[int], on: datetime.date | None) -> dict:
    if not account_ids:
        return {}
    params: list = list(account_ids)
    date_filter = ""
    if on is not None:
        date_filter = "AND (e.kind <> 'payment' OR e.entry_date < %s)"
        params.append(on)
    return _net_debts(f"{_in('e.account_id', account_ids)} {date_filter}", params)


def organization_open_debts(
    organization_id: int,
    *,
    through_month: datetime.date,
    account_ids: Sequence[int] | None = None,
) -> dict:
    """Per account of the organization: {(debt month, payee): unpaid amount}, as the journal
    stood at the end of `through_month` (the debtors report). One query; with `account_ids`
    (the accounts in debt) only theirs: on PostgreSQL still one query (the ids an array: the
    journal's (account, period) index for a few, one pass of the table for most), on SQLite
    one per batch of them."""
    where, params = "bp.organization_id = %s AND bp.month <= %s", [organization_id, through_month]
    if account_ids is None:
        return _net_debts(where, params)
    if connection.vendor == "postgresql":
        # One array parameter: the planner reads the index for a few accounts, the table once
        # for most of them.
        return _net_debts(f"{where} AND e.account_id = ANY(%s)", [*params, list(account_ids)])
    debts: dict[int, dict] = {}
    for chunk in chunks(list(account_ids)):
        debts.update(_net_debts(f"{where} AND {_in('e.account_id', chunk)}", [*params, *chunk]))
    return debts


def _net_debts(where: str, params: list) -> dict:
    """The open debts of the entries selected by `where`, netted by `calc.allocation`."""
    # Grouped by what decides the debt month, which `calc` then gives.
    sql = f"""
        SELECT e.account_id, e.concerns_month, bp.month, {RAISING}, e.provider_id,
            {kopecks_sum("e.amount")}
        FROM billing_ledgerentry e JOIN billing_period bp ON bp.id = e.period_id
        WHERE {where} AND e.kind <> 'penalty'
        GROUP BY e.account_id, e.concerns_month, bp.month, {RAISING}, e.provider_id
    """  # noqa: S608 - only placeholders and constant conditions are formatted in
    # Summed in whole kopecks per (debt month, payee), turned into roubles once per sum.
    nets: dict[int, dict] = defaultdict(lambda: defaultdict(int))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for account_id, concerns, booked, raising, payee, kopecks in cursor.fetchall():
            month = allocation.debt_month(
                _date(concerns), _date(booked), raising_recalculation=bool(raising)
            )
            nets[account_id][(month, payee)] += kopecks
    return {
        account_id: allocation.open_debts({key: from_kopecks(k) for key, k in net.items()})
        for account_id, net in nets.items()
    }


# --- payments ---------------------------------------------------------------------------------


def post_payments(period: Period, payments: Sequence[dict]) -> int:
    """Allocate matched payments to debts by `calc.allocation` and post them: the one way a
    payment reaches the ledger (registries, matching by hand, the demo).

    Each payment is a dict with id, account_id, amount, paid_on (date), for_month (or None) and
    optionally provider_id (the payee the payer named). One entry per (month, payee) paid, so the
    allocation can be explained later. Per batch of accounts: one query for the open debts, one
    for the month's charges per payee (which split an unnamed advance), one COPY / executemany.
    A registry's import runs the same steps (`payments_in`, `payment_rows`, `write_payment_rows`)
    with the writing of a batch beside the allocation of the next.
    """
    count = 0
    by_account = payments_in(payments)
    for chunk in chunks(sorted(by_account)):
        rows = payment_rows(
            period,
            {account_id: by_account[account_id] for account_id in chunk},
            open_debts(chunk),
            charges_by_payee(period, chunk),
        )
        count += write_payment_rows(rows)
    return count


def payments_in(payments: Iterable[dict]) -> dict[int, list[allocation.PaymentIn]]:
    """The payments (dicts, as `post_payments` takes them) by account, as `calc` takes them."""
    by_account: dict[int, list[allocation.PaymentIn]] = defaultdict(list)
    for p in payments:
        by_account[p["account_id"]].append(
            allocation.PaymentIn(
                id=p["id"],
                paid_on=p["paid_on"],
                amount=p["amount"],
                month=p.get("for_month"),
                payee=p.get("provider_id"),
            )
        )
    return by_account


def payment_rows(
    period: Period,
    by_account: dict[int, list[allocation.PaymentIn]],
    debts: dict[int, dict],
    weights: dict[int, dict],
) -> list[tuple]:
    """The ledger rows of the accounts' payments (`calc.allocation.allocate_payments` given the
    accounts' open debts and the month's charges per payee), without the database."""
    rows = []
    append, period_id = rows.append, period.id
    for account_id in sorted(by_account):
        for payment, part in allocation.allocate_payments(
            debts.get(account_id, {}), by_account[account_id], weights.get(account_id)
        ):
            append(
                (
                    account_id,
                    period_id,
                    part.month,
                    "payment",
                    -part.amount,
                    payment.paid_on,
                    payment.id,
                    "",
                    part.payee,
                )
            )
    return rows


def payment_rows_copy_text(rows: Sequence[tuple]) -> bytes:
    """`payment_rows` in the text format of `COPY billing_ledgerentry (ENTRY_COLUMNS)`: formatted
    here in one pass (the driver's per-row conversion costs several times more). No value
    needs escaping: ids, dates, amounts, the kind, an empty note; a missing id or month is NULL."""
    now = datetime.datetime.now(datetime.UTC).isoformat()
    null = "\\N"
    return "".join(
        [
            f"{account_id}\t{period_id}\t{null if month is None else month}\t{kind}\t"
            f"{amount:f}\t{day}\t{null if source_id is None else source_id}\t{note}\t"
            f"{null if payee is None else payee}\t"
            f"{now}\n"
            for account_id, period_id, month, kind, amount, day, source_id, note, payee in rows
        ]
    ).encode()


PAYMENT_ROWS_COPY = f"COPY billing_ledgerentry ({', '.join(ENTRY_COLUMNS)}) FROM STDIN"


def write_payment_rows(rows: Sequence[tuple]) -> int:
    """Write `payment_rows`: one COPY on PostgreSQL, executemany on SQLite."""
    if connection.vendor != "postgresql":
        return post_entries(rows)
    if rows:
        with connection.cursor() as cursor, cursor.cursor.copy(PAYMENT_ROWS_COPY) as copy:
            copy.write(payment_rows_copy_text(rows))
    return len(rows)


# How many months back `charges_by_payee` looks for an account's latest charges.
CHARGE_LOOKBACK = 3


def charges_by_payee(period: Period, account_ids: Sequence[int]) -> dict[int, dict]:
    """{account: {payee: charges}} of the month's charges, which split an unnamed advance: those
    of `period`, or, before the period is billed, of the account's latest month with charges
    among the `CHARGE_LOOKBACK` before it (one query)."""
    sql = f"""
        SELECT e.account_id, bp.month, e.provider_id, {kopecks_sum("e.amount")}
        FROM billing_ledgerentry e JOIN billing_period bp ON bp.id = e.period_id
        WHERE e.kind = 'charge' AND {_in("e.account_id", account_ids)}
            AND bp.organization_id = %s AND bp.month >= %s AND bp.month <= %s
        GROUP BY e.account_id, bp.month, e.provider_id
    """  # noqa: S608 - only placeholders are formatted in
    months: dict[int, dict] = defaultdict(lambda: defaultdict(dict))
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                *account_ids,
                period.organization_id,
                add_months(period.month, -CHARGE_LOOKBACK),
                period.month,
            ],
        )
        for account_id, month, payee, kopecks in cursor.fetchall():
            months[account_id][_date(month)][payee] = from_kopecks(kopecks)
    return {account_id: by_month[max(by_month)] for account_id, by_month in months.items()}


def payee_dues(period: Period, account_ids: Sequence[int]) -> dict[int, dict]:
    """{account: {payee: calc.allocation.PayeeDue}} at the end of `period`: each payee's own
    debt or advance from earlier months, its movement in the month and what its QR asks.

    One query per batch of accounts.
    """
    result: dict[int, dict] = {}
    for chunk in chunks(sorted(set(account_ids))):
        k = as_kopecks("e.amount")
        sql = f"""
            SELECT e.account_id, e.provider_id,
                SUM(CASE WHEN bp.month < %s THEN {k} ELSE 0 END),
                SUM(CASE WHEN bp.month = %s THEN {k} ELSE 0 END)
            FROM billing_ledgerentry e JOIN billing_period bp ON bp.id = e.period_id
            WHERE {_in("e.account_id", chunk)} AND bp.month <= %s
            GROUP BY e.account_id, e.provider_id
        """  # noqa: S608 - only constant SQL and placeholders are formatted in
        with connection.cursor() as cursor:
            cursor.execute(sql, [period.month, period.month, *chunk, period.month])
            for account_id, payee, before, during in cursor.fetchall():
                result.setdefault(account_id, {})[payee] = allocation.payee_due(
                    from_kopecks(before), from_kopecks(during)
                )
    return result


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


def post_penalties(period: Period, account_ids: Sequence[int] | None = None) -> int:
    """Penalties accrued over the previous calendar month, booked in this period.

    A month's receipt shows the penalty for the month before it, as ЕПД do: by then every
    payment dated in that month is known. `account_ids` limits the accounts; None means every
    account of the organization, billed in the period or not: a debt accrues until it is paid.

    Only a month whose debt is past its grace days in that month can accrue, so SQL first finds
    the accounts with such a month unpaid at its start; the exact rules
    (`calc.penalties.penalties_for_month`) then run for those accounts only.
    """
    LedgerEntry.objects.filter(period=period, kind=LedgerEntry.Kind.PENALTY).delete()
    organization = period.organization
    start = add_months(period.month, -1)
    end = period.month - datetime.timedelta(days=1)
    debtors = penalty_debtors(period, account_ids)
    if not debtors:
        return 0
    rates, pauses = rate_table(), moratoria()
    # A later month is still in its grace days: its debt would give no line (nor need a rate).
    last = last_accruing_month(period)

    @functools.cache
    def due(month: datetime.date) -> datetime.date:
        return due_date(organization, month)

    count = 0
    for chunk in chunks(debtors):
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
                    due_date=due(month),
                    amount=amount,
                    repayments=tuple(repayments.get((account_id, month, payee), ())),
                    payee=payee,
                )
                for (month, payee), amount in sorted(unpaid.items(), key=_debt_order)
                if month <= last
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
                        line.payee,
                    )
                )
        count += post_entries(rows)
    return count


def last_accruing_month(period: Period) -> datetime.date:
    """The latest month whose debt accrues a penalty on some day of the month before `period`.

    A debt accrues from day GRACE_DAYS + 1 after its due date; a later month is still in grace.
    """
    end = period.month - datetime.timedelta(days=1)
    month = add_months(period.month, -1)
    first_day = datetime.timedelta(days=GRACE_DAYS + 1)
    while due_date(period.organization, month) + first_day > end:
        month = add_months(month, -1)
    return month


def penalty_debtors(period: Period, account_ids: Sequence[int] | None = None) -> list[int]:
    """Accounts that may owe a penalty in `period` (see `post_penalties` for `account_ids`).

    Those with a debt month (`DEBT_MONTH`) up to `last_accruing_month` whose charges,
    recalculations and payments dated before the previous month began do not add up to zero or
    less: every account that `open_debts` gives an accruing month gets here (an advance only
    lowers its debts). Found with one GROUP BY over the journal in integer kopecks, or one per
    batch of a given list.
    """
    start = add_months(period.month, -1)
    params_tail = [last_accruing_month(period), start]

    def debtors(scope: str, scope_params: list) -> list[int]:
        sql = f"""
            SELECT DISTINCT account_id FROM (
                SELECT account_id FROM billing_ledgerentry e
                JOIN billing_period bp ON bp.id = e.period_id
                WHERE {scope} AND e.kind <> 'penalty' AND {DEBT_MONTH} <= %s
                    AND (e.kind <> 'payment' OR e.entry_date < %s)
                GROUP BY account_id, {DEBT_MONTH}, e.provider_id
                HAVING SUM({as_kopecks("amount")}) > 0
            ) owing
            ORDER BY account_id
        """  # noqa: S608 - only constant SQL and placeholders are formatted in
        with connection.cursor() as cursor:
            cursor.execute(sql, [*scope_params, *params_tail])
            return [row[0] for row in cursor.fetchall()]

    if account_ids is not None:
        found: list[int] = []
        for chunk in chunks(sorted(set(account_ids))):
            found += debtors(_in("e.account_id", chunk), list(chunk))
        return found
    # Every account with an overdue debt, billed this month or not (a closed account, an empty
    # flat keep accruing until the debt is paid).
    return debtors("bp.organization_id = %s", [period.organization_id])


def _debt_order(item) -> tuple:
    (month, payee), _ = item
    return (month, payee is not None, payee or 0)


def _repayments(account_ids: Sequence[int], start, end) -> dict:
    """{(account, month, payee): [(date, amount)]} of the payments dated in [start, end] (one
    query)."""
    sql = f"""
        SELECT account_id, concerns_month, provider_id, entry_date, {as_kopecks("amount")}
        FROM billing_ledgerentry
        WHERE {_in("account_id", account_ids)} AND kind = 'payment'
            AND entry_date >= %s AND entry_date <= %s AND concerns_month IS NOT NULL
    """  # noqa: S608 - only constant SQL and placeholders are formatted in
    found: dict = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*account_ids, start, end])
        for account_id, month, payee, day, kopecks in cursor.fetchall():
            found[(account_id, _date(month), payee)].append((_date(day), -from_kopecks(kopecks)))
    return found


def _date(value) -> datetime.date:
    """A date column of raw SQL (SQLite gives text; None stays None)."""
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


# --- balances ---------------------------------------------------------------------------------


BALANCE_COLUMNS = [
    "account_id",
    "period_id",
    "month",
    "opening",
    "charges",
    "recalculations",
    "penalties",
    "payments",
    "closing",
]


def refresh_balances(period: Period, account_ids: Sequence[int] | None = None) -> int:
    """Materialize the money movement of a month from the journal (all or some accounts).

    A row per account (every account of the organization when `account_ids` is None): opening
    = the previous month's closing, the month's entries summed by kind, and closing. One
    INSERT … SELECT for all accounts, or one per batch of a list, in integer kopecks.
    """
    previous = (
        Period.objects.filter(organization=period.organization, month=add_months(period.month, -1))
        .values_list("id", flat=True)
        .first()
    )
    if account_ids is None:
        AccountBalance.objects.filter(period=period).delete()
        # The period's entries are all of the organization's accounts: no filter on them.
        return _insert_balances(
            period, previous, "a.organization_id = %s", "", [period.organization_id]
        )
    count = 0
    for chunk in chunks(sorted(set(account_ids))):
        AccountBalance.objects.filter(period=period, account_id__in=chunk).delete()
        count += _insert_balances(
            period, previous, _in("a.id", chunk), f"AND {_in('account_id', chunk)}", list(chunk)
        )
    return count


def add_payments_to_balances(period: Period, paid: dict[int, Decimal]) -> list[int]:
    """Move the balances of `period` by payments just posted: `paid` is the sum per account
    (what its new payment entries add up to, with the sign of a payment: > 0). One UPDATE … FROM
    a list of values (its size known to the planner), in integer kopecks, instead of redoing the
    accounts' rows from the journal: payments and closing move by the same sum.

    Returns the accounts that have no row in the period yet: the caller makes theirs with
    `refresh_balances` once their entries are written.
    """
    if not paid:
        return []
    values = ", ".join(["(%s, %s)"] * len(paid))
    params: list = []
    for account_id, amount in paid.items():
        params += [account_id, int((amount * 100).to_integral_value())]
    sql = f"""
        UPDATE billing_accountbalance SET
            payments = ({as_kopecks("payments")} + d.kopecks) / 100.0,
            closing = ({as_kopecks("closing")} - d.kopecks) / 100.0
        FROM (SELECT column1 AS account_id, column2 AS kopecks FROM (VALUES {values}) v) d
        WHERE billing_accountbalance.period_id = %s
            AND billing_accountbalance.account_id = d.account_id
        RETURNING billing_accountbalance.account_id
    """  # noqa: S608 - only constant SQL and placeholders are formatted in
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, period.id])
        moved = {row[0] for row in cursor.fetchall()}
    return sorted(set(paid) - moved)


# The previous month's closing of each account, in kopecks (joined when there is such a month).
OPENING_JOIN = f"""
    LEFT JOIN (
        SELECT account_id, {as_kopecks("closing")} AS kopecks
        FROM billing_accountbalance WHERE period_id = %s
    ) ob ON ob.account_id = a.id"""  # noqa: S608 - a constant


def _insert_balances(
    period: Period, previous: int | None, accounts: str, entries: str, params: list
) -> int:
    """Balance rows of the accounts the condition `accounts` on `a` selects.

    `entries` narrows the journal to the same accounts (with the same `params`), or is empty.
    """
    k = as_kopecks("amount")
    opening = "COALESCE(ob.kopecks, 0)" if previous is not None else "0"
    charges, recalcs = "COALESCE(m.charges, 0)", "COALESCE(m.recalcs, 0)"
    penalties, payments = "COALESCE(m.penalties, 0)", "COALESCE(m.payments, 0)"
    sql = f"""
        INSERT INTO billing_accountbalance ({", ".join(BALANCE_COLUMNS)})
        SELECT a.id, %s, %s, {opening} / 100.0, {charges} / 100.0, {recalcs} / 100.0,
            {penalties} / 100.0, -{payments} / 100.0,
            ({opening} + {charges} + {recalcs} + {penalties} + {payments}) / 100.0
        FROM registry_personalaccount a{OPENING_JOIN if previous is not None else ""}
        LEFT JOIN (
            SELECT account_id,
                SUM(CASE WHEN kind IN ('charge', 'correction') THEN {k} ELSE 0 END) AS charges,
                SUM(CASE WHEN kind = 'recalculation' THEN {k} ELSE 0 END) AS recalcs,
                SUM(CASE WHEN kind = 'penalty' THEN {k} ELSE 0 END) AS penalties,
                SUM(CASE WHEN kind = 'payment' THEN {k} ELSE 0 END) AS payments
            FROM billing_ledgerentry
            WHERE period_id = %s {entries}
            GROUP BY account_id
        ) m ON m.account_id = a.id
        WHERE {accounts}
        ORDER BY a.id
    """  # noqa: S608 - only constant SQL and placeholders are formatted in
    opening_params = [previous] if previous is not None else []
    entry_params = params if entries else []
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [period.id, period.month, *opening_params, period.id, *entry_params, *params]
        )
        return cursor.rowcount


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
