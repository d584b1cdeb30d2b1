"""Posting of an imported registry's payments into the ledger, batch by batch of accounts.

The allocation itself is `billing.calc.allocation` (applied by `billing.ledger.post_payments`,
the one way any payment reaches the ledger): this module only feeds it the file's matched
payments, a batch of accounts at a time, and then moves the accounts' balances.

Per batch of `BATCH` accounts a fixed number of queries: the batch's payments (a range of
account ids), their accounts' open debts, the month's charges per payee, one COPY (PostgreSQL) /
executemany (SQLite) of the entries. On PostgreSQL the COPY of a batch runs in a thread on the
import's own connection while the next batch is read back and allocated (the server writes and
checks the entries while Python allocates); memory holds two batches. In a billed period the
batch's balances move by its payments in one UPDATE … FROM a list of values.
"""

import datetime
import threading
import time
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.db import connection

from kvartplata.billing import ledger
from kvartplata.lib.db import as_kopecks
from kvartplata.payments.models import Payment
from kvartplata.registry.models import Period

# Accounts per batch: half the ledger's, as two batches are in memory at once (one allocated
# while the other is written).
BATCH = 2500


def post_imported(
    period: Period, *, file_id: int, after_id: int, phases: dict[str, float] | None = None
) -> list[int]:
    """Post the matched payments a file just added (ids above `after_id`); in a billed period
    move their accounts' balances by them (one UPDATE per batch). Returns the accounts posted
    to. `phases` gets the seconds of each step, for the import's log."""
    phases = phases if phases is not None else {}
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        phases[name] = phases.get(name, 0.0) + now - clock
        clock = now

    new = Payment.objects.filter(file_id=file_id, id__gt=after_id, account_id__isnull=False)
    accounts = list(new.values_list("account_id", flat=True).distinct().order_by("account_id"))
    lap("accounts")
    billed = period.state == Period.State.BILLED
    without_balance: list[int] = []
    writer = _Writer()
    try:
        for chunk in ledger.chunks(accounts, BATCH):
            fetched = _fetch_payments(file_id, after_id, chunk[0], chunk[-1])
            debts = ledger.open_debts(chunk)
            weights = ledger.charges_by_payee(period, chunk)
            lap("reads")
            # The previous batch's entries are written while this one is allocated.
            writer.start()
            payments = ledger.payments_in(_payments_of(fetched))
            rows = ledger.payment_rows(period, payments, debts, weights)
            writer.put(rows)
            lap("allocation")
            writer.join()
            lap("entries written (waited for)")
            if billed:
                # A payment's entries add up to its amount (calc.allocation splits it whole).
                paid = {a: sum((p.amount for p in ps), Decimal(0)) for a, ps in payments.items()}
                without_balance += ledger.add_payments_to_balances(period, paid)
                lap("balances")
        writer.start()
        writer.join()
        lap("entries written (waited for)")
    finally:
        writer.join()
    if without_balance:
        ledger.refresh_balances(period, without_balance)
        lap("balances")
    return accounts


class _Writer:
    """Writes a batch's ledger rows; on PostgreSQL in a thread of its own, while the next batch
    is allocated (the COPY waits on the server without the GIL).

    The thread uses the import's own connection (the same transaction); the importing thread
    sends nothing to the database between `start` and `join`.
    """

    def __init__(self):
        self.rows: list[tuple] | None = None
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def put(self, rows: list[tuple]) -> None:
        self.rows = rows

    def start(self) -> None:
        rows, self.rows = self.rows, None
        if not rows:
            return
        if connection.vendor != "postgresql":
            ledger.write_payment_rows(rows)
            return
        data = ledger.payment_rows_copy_text(rows)
        connection.ensure_connection()
        raw = connection.connection
        self.thread = threading.Thread(target=self._copy, args=(raw, data), daemon=True)
        self.thread.start()

    def _copy(self, raw, data: bytes) -> None:
        try:
            with raw.cursor() as cursor, cursor.copy(ledger.PAYMENT_ROWS_COPY) as copy:
                copy.write(data)
        except BaseException as exc:  # handed over to the importing thread
            self.error = exc

    def join(self) -> None:
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        if self.error is not None:
            error, self.error = self.error, None
            raise error


def _fetch_payments(file_id: int, after_id: int, low: int, high: int) -> list[tuple]:
    """The file's matched payments of the accounts `low`..`high`, as the database gives them
    (one plain query: the ORM's per-row conversions cost more than the allocation). PostgreSQL
    gives the local day of each payment itself; SQLite's stored text is read by `_payments_of`."""
    if connection.vendor == "postgresql":
        sql = """
            SELECT id, account_id, amount, (paid_at AT TIME ZONE %s)::date, for_month,
                provider_id
            FROM payments_payment
            WHERE file_id = %s AND id > %s AND account_id BETWEEN %s AND %s
        """
        params = [settings.TIME_ZONE, file_id, after_id, low, high]
    else:
        sql = f"""
            SELECT id, account_id, {as_kopecks("amount")}, paid_at, for_month, provider_id
            FROM payments_payment
            WHERE file_id = %s AND id > %s AND account_id BETWEEN %s AND %s
        """  # noqa: S608 - only constant SQL and placeholders are formatted in
        params = [file_id, after_id, low, high]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _payments_of(rows: list[tuple]) -> list[dict]:
    """`_fetch_payments`' rows as `post_payments` takes them."""
    if connection.vendor == "postgresql":
        return [
            {
                "id": payment_id,
                "account_id": account_id,
                "amount": amount,
                "paid_on": paid_on,
                "for_month": for_month,
                "provider_id": provider_id,
            }
            for payment_id, account_id, amount, paid_on, for_month, provider_id in rows
        ]
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)  # the registry's times are local time
    return [
        {
            "id": payment_id,
            "account_id": account_id,
            "amount": Decimal(kopecks).scaleb(-2),
            "paid_on": _moment(paid_at).astimezone(zone).date(),
            "for_month": _date(for_month),
            "provider_id": provider_id,
        }
        for payment_id, account_id, kopecks, paid_at, for_month, provider_id in rows
    ]


def _moment(value) -> datetime.datetime:
    """A stored moment: PostgreSQL gives it aware; SQLite gives the naive UTC text Django wrote."""
    if isinstance(value, str):
        return datetime.datetime.fromisoformat(value).replace(tzinfo=datetime.UTC)
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


def _date(value) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value
