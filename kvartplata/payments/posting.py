"""Posting of an imported registry's payments into the ledger, batch by batch of accounts.

The allocation itself is `billing.calc.allocation` (applied by `billing.ledger.post_payments`,
the one way any payment reaches the ledger): this module only feeds it the file's matched
payments, a batch of accounts at a time, and then brings the batch's balances up to date.

Per batch of `ledger.BATCH` accounts a fixed number of queries: the batch's payments (a range of
account ids), their accounts' open debts, the month's charges per payee, one COPY (PostgreSQL) /
executemany (SQLite) of the entries, and in a billed period the balances of those accounts.
Memory holds one batch.
"""

import datetime
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.db import connection

from kvartplata.billing import ledger
from kvartplata.lib.db import as_kopecks
from kvartplata.payments.models import Payment
from kvartplata.registry.models import Period


def post_imported(period: Period, *, file_id: int, after_id: int) -> list[int]:
    """Post the matched payments a file just added (ids above `after_id`); in a billed period
    bring their accounts' balances up to date. Returns the accounts posted to."""
    new = Payment.objects.filter(file_id=file_id, id__gt=after_id, account_id__isnull=False)
    accounts = list(new.values_list("account_id", flat=True).distinct().order_by("account_id"))
    for chunk in ledger.chunks(accounts):
        ledger.post_payments(period, _payments(file_id, after_id, chunk[0], chunk[-1]))
        if period.state == Period.State.BILLED:
            ledger.refresh_balances(period, chunk)
    return accounts


def _payments(file_id: int, after_id: int, low: int, high: int) -> list[dict]:
    """The file's matched payments of the accounts `low`..`high`, as `post_payments` takes them
    (one plain query: the ORM's per-row conversions cost more than the allocation)."""
    sql = f"""
        SELECT id, account_id, {as_kopecks("amount")}, paid_at, for_month, provider_id
        FROM payments_payment
        WHERE file_id = %s AND id > %s AND account_id BETWEEN %s AND %s
    """  # noqa: S608 - only constant SQL and placeholders are formatted in
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)  # the registry's times are local time
    with connection.cursor() as cursor:
        cursor.execute(sql, [file_id, after_id, low, high])
        rows = cursor.fetchall()
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
