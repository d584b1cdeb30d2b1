"""manage.py registry_import: the report on stdout; a refused file fails the command."""

import pytest
from django.core.management import CommandError, call_command

from kvartplata.backoffice.tests.exchange_helpers import edit, organization, tables, xlsx
from kvartplata.registry.models import PersonalAccount

pytestmark = pytest.mark.django_db


def workbook(tmp_path, data):
    path = tmp_path / "registry.xlsx"
    path.write_bytes(xlsx(data))
    return str(path)


def test_it_prints_the_counts_of_a_dry_run_and_writes_nothing(tmp_path, capsys):
    org = organization()
    call_command(
        "registry_import",
        workbook(tmp_path, tables(accounts=3)),
        organization=org.id,
        month="2026-03",
        dry_run=True,
    )
    out = capsys.readouterr().out
    assert "лицевые счета: новых 3, изменённых 0, без изменений 0" in out
    assert "пробный запуск" in out
    assert not PersonalAccount.objects.exists()


def test_it_loads_the_file(tmp_path, capsys):
    org = organization()
    call_command(
        "registry_import",
        workbook(tmp_path, tables(accounts=3)),
        organization=org.id,
        month="2026-03",
    )
    assert "Записано." in capsys.readouterr().out
    assert PersonalAccount.objects.count() == 3


def test_it_fails_with_every_refused_line(tmp_path, capsys):
    org = organization()
    data = edit(
        edit(tables(accounts=3), "accounts", 1, "residents", "-2"), "meters", 0, "resource", "пар"
    )
    with pytest.raises(CommandError, match="Файл не загружен"):
        call_command(
            "registry_import", workbook(tmp_path, data), organization=org.id, month="2026-03"
        )
    out = capsys.readouterr().out
    assert "accounts (лицевые счета), строка 3: число проживающих не может быть меньше нуля" in out
    assert "meters (приборы учёта), строка 2: ресурс: неизвестное значение «пар»" in out
    assert not PersonalAccount.objects.exists()


def test_it_refuses_a_bad_month(tmp_path):
    org = organization()
    with pytest.raises(CommandError, match="Неверный период"):
        call_command(
            "registry_import",
            workbook(tmp_path, tables(accounts=1)),
            organization=org.id,
            month="03.2026",
        )
