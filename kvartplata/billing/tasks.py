"""Background work of billing on the task queue."""

import contextlib

from huey.contrib.djhuey import db_task

from kvartplata.billing.services import BillingError, billing_run_execute


@db_task()
def run_billing(run_id: int) -> None:
    # The run row keeps a failure and its reason for the back office.
    with contextlib.suppress(BillingError):
        billing_run_execute(run_id=run_id)
