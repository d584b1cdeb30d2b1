"""A payment file's import holds a lease: a file whose worker died is refused with the reason."""

import datetime

from django.utils import timezone

from kvartplata.lib import leases
from kvartplata.payments.models import Payment, PaymentFile
from kvartplata.payments.services import payment_files_reap
from kvartplata.payments.tests.conftest import line, registry


def test_it_holds_the_file_while_importing_and_releases_it(world, accounts, bank, tmp_path):
    from kvartplata.payments.services import payment_file_import

    text = registry([line(accounts[0].number, "10.00", op="L1")])
    path = tmp_path / "r.txt"
    path.write_bytes(text.encode("cp1251"))
    queued = PaymentFile.objects.create(bank=bank, name="r.txt", size=path.stat().st_size)
    seen = []

    def progress(done, total):
        seen.append(PaymentFile.objects.values_list("status", "lease_owner").get(pk=queued.pk))

    done = payment_file_import(payment_file_id=queued.pk, path=path, progress=progress)
    assert seen and all(status == "processing" and owner for status, owner in seen)
    assert (done.status, done.lease_owner, done.lease_expires_at) == ("imported", "", None)


def test_it_refuses_a_file_whose_worker_died_once_its_lease_ran_out(world, bank):
    dead = PaymentFile.objects.create(bank=bank, name="a.txt")
    alive = PaymentFile.objects.create(bank=bank, name="b.txt")
    now = timezone.now()
    for f, seconds in ((dead, 10), (alive, 120)):
        assert leases.claim(
            PaymentFile, f.pk, owner=f"w{f.pk}", seconds=seconds, now=now, status="processing"
        )
    assert payment_files_reap(now=now + datetime.timedelta(seconds=9)) == []
    assert payment_files_reap(now=now + datetime.timedelta(seconds=11)) == [dead.pk]
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == PaymentFile.Status.REFUSED
    assert dead.error.startswith("Загрузка прервана: обработчик остановился")
    assert alive.status == PaymentFile.Status.PROCESSING


def test_it_writes_nothing_when_the_file_was_taken_over(world, accounts, import_text, monkeypatch):
    original = leases.hold

    def taken(model, pk, *, owner):
        model.objects.filter(pk=pk).update(lease_owner="someone-else")
        return original(model, pk, owner=owner)

    monkeypatch.setattr(leases, "hold", taken)
    before = Payment.objects.count()
    f = import_text(registry([line(accounts[0].number, "10.00", op="T1")]))
    assert f.status == PaymentFile.Status.REFUSED
    assert "передан другому обработчику" in f.error
    assert Payment.objects.count() == before


def test_it_refuses_a_file_lost_in_the_queue_after_an_hour(world, bank, settings):
    settings.JOB_QUEUED_SECONDS = 3600
    queued = PaymentFile.objects.create(bank=bank, name="a.txt")
    uploaded = PaymentFile.objects.get(pk=queued.pk).uploaded_at
    assert payment_files_reap(now=uploaded + datetime.timedelta(seconds=3599)) == []
    assert payment_files_reap(now=uploaded + datetime.timedelta(seconds=3601)) == [queued.pk]
    queued.refresh_from_db()
    assert queued.status == PaymentFile.Status.REFUSED
    assert queued.error.startswith("Файл не взят из очереди задач")
