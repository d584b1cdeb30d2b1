"""The import_payments management command."""

import pytest
from django.core.management import CommandError, call_command

from kvartplata.payments.models import Payment, PaymentFile
from kvartplata.payments.tests.conftest import line, registry


def test_it_imports_a_file(world, accounts, tmp_path, capsys):
    path = tmp_path / "sber.txt"
    path.write_bytes(registry([line(accounts[0].number, "10.00", op="C1")]).encode("cp1251"))
    call_command("import_payments", str(path), "--bank", "sber", verbosity=0)
    assert "Реестр загружен" in capsys.readouterr().out
    assert Payment.objects.filter(natural_key="C1").count() == 1
    assert PaymentFile.objects.get().status == PaymentFile.Status.IMPORTED


def test_it_reports_a_refused_file(world, accounts, tmp_path):
    path = tmp_path / "sber.txt"
    path.write_bytes(registry([line(accounts[0].number, "10.00", op="C1")], count=5).encode())
    with pytest.raises(CommandError, match="Число платежей в файле"):
        call_command("import_payments", str(path), "--bank", "sber", verbosity=0)
    assert not Payment.objects.filter(natural_key="C1").exists()


def test_it_refuses_an_unknown_bank_or_file(world, tmp_path):
    with pytest.raises(CommandError, match="Банк с кодом «nobank» не найден"):
        path = tmp_path / "x.txt"
        path.write_text("x")
        call_command("import_payments", str(path), "--bank", "nobank", verbosity=0)
    with pytest.raises(CommandError, match="Файл не найден"):
        call_command("import_payments", str(tmp_path / "none.txt"), "--bank", "sber")


def test_it_queues_the_file_on_request(
    world, accounts, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    path = tmp_path / "sber.txt"
    path.write_bytes(registry([line(accounts[0].number, "10.00", op="C2")]).encode("cp1251"))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_payments", str(path), "--bank", "sber", "--queue", verbosity=0)
    # The test task queue runs at once: the file is imported by the task.
    assert PaymentFile.objects.get().status == PaymentFile.Status.IMPORTED
    assert Payment.objects.filter(natural_key="C2").count() == 1
