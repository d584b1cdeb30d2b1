"""Uploaded registry files as jobs on the task queue: check (dry run), confirm, load.

The upload is kept under DATA_DIR and a job row is made; a worker claims the job under a lease
(`lib.leases`), runs the check and keeps its report; the operator reads the report and confirms;
a worker claims it again and loads the file in one transaction, committed only while it still
holds the lease. A worker that dies leaves nothing written; `import_jobs_reap` marks its job
failed with the reason, and the operator uploads the file again.
"""

import logging
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kvartplata.backoffice.exchange import files
from kvartplata.backoffice.exchange.load import Report
from kvartplata.backoffice.exchange.services import registry_import
from kvartplata.lib import leases
from kvartplata.lib.periods import period_label
from kvartplata.registry.models import ImportJob

log = logging.getLogger(__name__)
SUFFIXES = (".xlsx", ".zip")
STALE_REASON = (
    "Обработка прервана: обработчик остановился, ничего не записано. Загрузите файл снова."
)


class UploadRefused(Exception):
    """The upload itself is refused (size, kind); the message is for the operator."""


def storage_dir() -> Path:
    return Path(settings.DATA_DIR) / "registry-imports"


def import_job_upload(
    *, organization, name: str, chunks, size: int, switch_month, user=None
) -> ImportJob:
    """Keep an uploaded file (the caller queues its check); a too large or unknown file is
    refused unread."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise UploadRefused("Загрузите книгу .xlsx или архив .zip с файлами CSV.")
    if size > files.MAX_FILE_BYTES:
        raise UploadRefused(files.too_large(size))
    storage_dir().mkdir(parents=True, exist_ok=True)
    path = storage_dir() / f"{uuid.uuid4().hex}{suffix}"
    written = 0
    with open(path, "wb") as out:
        for chunk in chunks:
            written += len(chunk)
            if written > files.MAX_FILE_BYTES:
                out.close()
                path.unlink()
                raise UploadRefused(files.too_large(written))
            out.write(chunk)
    with transaction.atomic():
        job = ImportJob.objects.create(
            organization=organization,
            file_name=name[:255],
            stored_as=path.name,
            switch_month=switch_month,
            created_by=user,
        )
    return job


def import_job_confirm(*, job: ImportJob) -> bool:
    """Mark a checked file for loading (once: a second confirmation changes nothing).

    True when it was marked: the caller then queues the load (`load_import_job`).
    """
    with transaction.atomic():
        queued = ImportJob.objects.filter(
            pk=job.pk, status=ImportJob.Status.CHECKED, lease_owner=""
        ).update(status=ImportJob.Status.LOADING, step="", done=0, total=0)
    return bool(queued)


def import_job_run(*, job_id: int) -> ImportJob:
    """Do the job's current step: the check of a new file or the load of a confirmed one."""
    owner = leases.worker_id()
    claimed = leases.claim(
        ImportJob,
        job_id,
        owner=owner,
        filters=Q(status__in=[ImportJob.Status.CHECKING, ImportJob.Status.LOADING]),
    )
    job = ImportJob.objects.select_related("organization").get(pk=job_id)
    if not claimed:
        return job  # another worker has it, or it is done
    dry_run = job.status == ImportJob.Status.CHECKING
    path = storage_dir() / job.stored_as
    last_progress: dict = {}
    try:
        with leases.Heartbeat(ImportJob, job_id, owner=owner) as heartbeat, transaction.atomic():

            def progress(step, done, total):
                last_progress.update(step=step[:40], done=done, total=total)
                heartbeat.beat(**last_progress)

            report = registry_import(
                organization=job.organization,
                source=path,
                filename=job.file_name,
                switch_month=job.switch_month,
                dry_run=dry_run,
                progress=progress,
            )
            heartbeat.stop()
            if not leases.hold(ImportJob, job_id, owner=owner):
                raise transaction.TransactionManagementError("lease lost")
    except FileNotFoundError:
        report = Report(error="Файл загрузки не найден: загрузите его снова.")
    except Exception:
        log.exception("Registry import job %s failed", job_id)
        leases.release(
            ImportJob,
            job_id,
            owner=owner,
            status=ImportJob.Status.FAILED,
            report=Report(error="Внутренняя ошибка: ничего не записано.").as_dict(),
            finished_at=timezone.now(),
        )
        job.refresh_from_db()
        return job
    if not report.ok:
        status = ImportJob.Status.REFUSED
    elif dry_run:
        status = ImportJob.Status.CHECKED
    else:
        status = ImportJob.Status.DONE
    outcome = {"status": status, "report": report.as_dict(), **last_progress}
    if status != ImportJob.Status.CHECKED:
        outcome["finished_at"] = timezone.now()
        path.unlink(missing_ok=True)
    leases.release(ImportJob, job_id, owner=owner, **outcome)
    job.refresh_from_db()
    return job


def import_jobs_reap(*, now=None) -> list[int]:
    """Fail the jobs whose worker stopped renewing its lease (nothing of them was written)."""
    now = now or timezone.now()
    return leases.fail_expired(
        ImportJob,
        now=now,
        filters=Q(status__in=[ImportJob.Status.CHECKING, ImportJob.Status.LOADING]),
        status=ImportJob.Status.FAILED,
        finished_at=now,
        report=Report(error=STALE_REASON).as_dict(),
    )


def job_report(job: ImportJob) -> Report:
    report = Report.from_dict(job.report or {})
    report.switch_month = period_label(job.switch_month)
    return report
