"""Background work of receipts: mailing with retries, the print shop's ZIP with progress."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from kvartplata.lib.leases import JOB_PRIORITY
from kvartplata.receipts.services import (
    deliveries_reap,
    deliveries_schedule,
    delivery_send,
    print_archive_build,
)


@db_task(retries=5, retry_delay=300)
def send_delivery(delivery_id: int) -> None:
    # Mail has the queue's lowest priority: a slow mail server never holds up runs or imports.
    if not delivery_send(delivery_id=delivery_id):
        raise RuntimeError(f"receipt delivery {delivery_id} failed; will retry")


def deliveries_queue(period_id: int) -> int:
    """Create the month's deliveries (once) and queue their sending; returns how many.

    Called after the month's close commits (`backoffice.closing`), possibly twice: a pair that
    already has a delivery is left alone, so a receipt reaches a user at most once.
    """
    created = deliveries_schedule(period_id=period_id)
    for delivery_id in created:
        send_delivery(delivery_id)
    return len(created)


@db_task(priority=JOB_PRIORITY)
def build_print_archive(period_id: int) -> int:
    return print_archive_build(period_id=period_id)


@db_periodic_task(crontab(minute="*"), priority=JOB_PRIORITY)
def reap_deliveries() -> list[int]:
    """Every minute: a delivery whose worker died while sending is marked failed."""
    return deliveries_reap()
