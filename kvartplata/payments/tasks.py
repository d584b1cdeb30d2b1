"""Background import of a bank's registry file on the task queue."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from kvartplata.lib.leases import JOB_PRIORITY
from kvartplata.payments.services import payment_file_import, payment_files_reap


@db_task(priority=JOB_PRIORITY)
def import_payment_file(payment_file_id: int) -> str:
    """Import an uploaded file; its row keeps the outcome (and the reason of a refusal)."""
    return payment_file_import(payment_file_id=payment_file_id).status


@db_periodic_task(crontab(minute="*"), priority=JOB_PRIORITY)
def reap_payment_files() -> list[int]:
    """Every minute: a file whose import worker died is refused with the reason."""
    return payment_files_reap()
