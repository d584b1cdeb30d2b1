"""Background work of billing on the task queue."""

import contextlib

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from kvartplata.billing.services import BillingError, billing_run_execute, billing_runs_reap
from kvartplata.lib.leases import JOB_PRIORITY
from kvartplata.lib.queue import enqueue_on_commit


@db_task(priority=JOB_PRIORITY)
def run_billing(run_id: int) -> None:
    # The run row keeps a failure and its reason for the back office.
    with contextlib.suppress(BillingError):
        billing_run_execute(run_id=run_id)


def run_billing_after(error: BillingError) -> None:
    """A start refused while a run waits: queue the waiting run's task once more after commit.

    Its task may have been lost with a worker; a run is claimed once, so a second task for it
    does nothing. Called by the views and admin actions that start runs.
    """
    if error.waiting_run_id is not None:
        enqueue_on_commit(run_billing, error.waiting_run_id)


@db_periodic_task(crontab(minute="*"), priority=JOB_PRIORITY)
def reap_billing_runs() -> list[int]:
    """Every minute: a run whose worker died is marked failed, so that it can be started again."""
    return billing_runs_reap()
