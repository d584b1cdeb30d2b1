"""Import jobs under a lease: one worker at a time, a dead worker's job failed with the reason."""

import datetime

import pytest
from django.utils import timezone

from kvartplata.backoffice.exchange.jobs import (
    import_job_confirm,
    import_job_run,
    import_job_upload,
    import_jobs_reap,
)
from kvartplata.backoffice.tests.exchange_helpers import SWITCH, organization, tables, xlsx
from kvartplata.lib import leases
from kvartplata.registry.models import ImportJob, PersonalAccount

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


def uploaded(org, data=None) -> ImportJob:
    content = xlsx(data or tables(accounts=2))
    return import_job_upload(
        organization=org,
        name="registry.xlsx",
        chunks=[content],
        size=len(content),
        switch_month=SWITCH,
    )


def test_it_checks_then_loads_and_removes_the_file(data_dir):
    org = organization()
    job = import_job_run(job_id=uploaded(org).pk)
    assert job.status == ImportJob.Status.CHECKED
    assert job.report["counts"]["accounts"]["created"] == 2
    assert job.step and job.lease_owner == ""
    assert import_job_confirm(job=job)
    assert not import_job_confirm(job=job)  # once
    job = import_job_run(job_id=job.pk)
    assert job.status == ImportJob.Status.DONE
    assert PersonalAccount.objects.count() == 2
    assert not (data_dir / "registry-imports" / job.stored_as).exists()


def test_it_leaves_a_job_another_worker_holds():
    org = organization()
    job = uploaded(org)
    assert leases.claim(ImportJob, job.pk, owner="other", seconds=60)
    assert import_job_run(job_id=job.pk).status == ImportJob.Status.CHECKING
    job.refresh_from_db()
    assert job.lease_owner == "other"


def test_it_fails_a_job_whose_worker_stopped():
    org = organization()
    job = uploaded(org)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.LOADING,
        lease_owner="dead",
        lease_expires_at=timezone.now() - datetime.timedelta(seconds=1),
    )
    assert import_jobs_reap() == [job.pk]
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "обработчик остановился" in job.report["error"]
    assert not PersonalAccount.objects.exists()


def test_it_refuses_an_upload_over_the_limit(monkeypatch):
    from kvartplata.backoffice.exchange import files
    from kvartplata.backoffice.exchange.jobs import UploadRefused

    monkeypatch.setattr(files, "MAX_FILE_BYTES", 100)
    with pytest.raises(UploadRefused, match="Файл слишком большой"):
        uploaded(organization())
    assert not ImportJob.objects.exists()


def test_it_reports_a_missing_stored_file(data_dir):
    org = organization()
    job = uploaded(org)
    (data_dir / "registry-imports" / job.stored_as).unlink()
    job = import_job_run(job_id=job.pk)
    assert job.status == ImportJob.Status.REFUSED
    assert "не найден" in job.report["error"]
