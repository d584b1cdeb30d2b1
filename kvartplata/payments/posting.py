"""Posting of an imported registry's payments into the ledger, batch by batch of accounts.

The allocation itself is `billing.calc.allocation` (applied by `billing.ledger.post_payments`,
the one way any payment reaches the ledger): this module only feeds it the file's matched
payments, a batch of accounts at a time, and then brings the batch's balances up to date.

Per batch of `ledger.BATCH` accounts a fixed number of queries: the batch's payments (a range of
account ids), their accounts' open debts, the month's charges per payee, one COPY (PostgreSQL) /
executemany (SQLite) of the entries, and in a billed period the balances of those accounts.
Memory holds one batch.
"""

import zoneinfo

from django.conf import settings

from kvartplata.billing import ledger
from kvartplata.billing.models import Period
from kvartplata.payments.models import Payment


def post_imported(period: Period, *, file_id: int, after_id: int) -> list[int]:
    """Post the matched payments a file just added (ids above `after_id`); in a billed period
    bring their accounts' balances up to date. Returns the accounts posted to."""
    new = Payment.objects.filter(file_id=file_id, id__gt=after_id, account_id__isnull=False)
    accounts = list(new.values_list("account_id", flat=True).distinct().order_by("account_id"))
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)  # the registry's times are local time
    for chunk in ledger.chunks(accounts):
        rows = new.filter(account_id__gte=chunk[0], account_id__lte=chunk[-1]).values_list(
            "id", "account_id", "amount", "paid_at", "for_month", "provider_id"
        )
        ledger.post_payments(
            period,
            [
                {
                    "id": payment_id,
                    "account_id": account_id,
                    "amount": amount,
                    "paid_on": paid_at.astimezone(zone).date(),
                    "for_month": for_month,
                    "provider_id": provider_id,
                }
                for payment_id, account_id, amount, paid_at, for_month, provider_id in rows
            ],
        )
        if period.state == Period.State.BILLED:
            ledger.refresh_balances(period, chunk)
    return accounts
