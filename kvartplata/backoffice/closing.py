"""Closing a month: billing closes the period, receipts freeze its documents, in one transaction.

It stands above billing and receipts so that billing never reaches up: `billing.period_close`
takes the issuer as an argument and knows nothing of receipts. The month page, the demo and
the tests close months here.
"""

import datetime

from django.db import transaction

from kvartplata.billing.services import period_close
from kvartplata.receipts.services import receipts_issue
from kvartplata.receipts.tasks import deliveries_queue
from kvartplata.registry.models import Organization, Period


def period_close_with_receipts(
    *,
    organization: Organization,
    user=None,
    open_next: bool = True,
    issue_receipts: bool = True,
    now: datetime.datetime | None = None,
) -> Period:
    """Close the billed period with its receipts issued (see `billing.services.period_close`).

    `issue_receipts=False` closes without receipts (the demo's older months).
    """

    def issue(period: Period, moment: datetime.datetime) -> None:
        receipts_issue(period=period, issued_at=moment)
        # The mailing after the commit; robust: a queue that is down must not turn a committed
        # close into an error page.
        period_id = period.id
        transaction.on_commit(lambda: deliveries_queue(period_id), robust=True)

    return period_close(
        organization=organization,
        user=user,
        open_next=open_next,
        now=now,
        issue=issue if issue_receipts else None,
    )
