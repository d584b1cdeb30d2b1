"""Background work of billing on the task queue."""

from huey.contrib.djhuey import db_task

from kvartplata.billing.services import BillingError, billing_run_execute


@db_task()
def run_billing(run_id: int) -> None:
    try:
        billing_run_execute(run_id=run_id)
    except BillingError:
        pass  # the run row keeps the failure and its reason for the back office
