"""Background work of receipts: mailing with retries."""

from huey.contrib.djhuey import db_task

from kvartplata.receipts.services import delivery_send


@db_task(retries=5, retry_delay=300)
def send_delivery(delivery_id: int) -> None:
    if not delivery_send(delivery_id=delivery_id):
        raise RuntimeError(f"receipt delivery {delivery_id} failed; will retry")
