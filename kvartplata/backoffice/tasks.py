"""Registry files on the task queue: the check of an upload, the load of a confirmed one."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from kvartplata.backoffice.exchange.jobs import import_job_run, import_jobs_reap
from kvartplata.lib.leases import JOB_PRIORITY


@db_task(priority=JOB_PRIORITY)
def check_import_job(job_id: int) -> str:
    return import_job_run(job_id=job_id).status


@db_task(priority=JOB_PRIORITY)
def load_import_job(job_id: int) -> str:
    return import_job_run(job_id=job_id).status


@db_periodic_task(crontab(minute="*"))
def reap_import_jobs() -> list[int]:
    """Every minute: a job whose worker died is marked failed with the reason."""
    return import_jobs_reap()
