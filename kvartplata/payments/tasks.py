"""Background import of a bank's registry file on the task queue."""

from huey.contrib.djhuey import db_task

from kvartplata.payments.services import payment_file_import


@db_task()
def import_payment_file(payment_file_id: int) -> str:
    """Import an uploaded file; its row keeps the outcome (and the reason of a refusal)."""
    return payment_file_import(payment_file_id=payment_file_id).status
