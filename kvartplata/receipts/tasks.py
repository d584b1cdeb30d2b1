"""Background work of receipts: mailing with retries, the print shop's ZIP with progress."""

from huey.contrib.djhuey import db_task

from kvartplata.receipts.services import delivery_send, print_archive_build


@db_task(retries=5, retry_delay=300)
def send_delivery(delivery_id: int) -> None:
    if not delivery_send(delivery_id=delivery_id):
        raise RuntimeError(f"receipt delivery {delivery_id} failed; will retry")


@db_task()
def build_print_archive(period_id: int) -> int:
    return print_archive_build(period_id=period_id)
