"""The import_readings and export_readings management commands."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from kvartplata.meters.models import Reading


def test_it_imports_a_file_and_prints_the_report(world, tmp_path, in_window):
    path = tmp_path / "r.csv"
    path.write_text(
        "account;serial_number;month;value1\n1000015;CW-1;2026-11;135\n1000015;CW-1;2026-11;x\n"
    )
    out = StringIO()
    call_command("import_readings", str(path), organization=world.organization.pk, stdout=out)
    assert "Принято строк: 1, отклонено: 1." in out.getvalue()
    assert Reading.objects.filter(meter=world.cold, month__month=11, source="import").exists()


def test_it_refuses_an_unknown_organization_or_file(world, tmp_path):
    with pytest.raises(CommandError):
        call_command(
            "import_readings", str(tmp_path / "none.csv"), organization=world.organization.pk
        )
    with pytest.raises(CommandError):
        call_command("import_readings", str(tmp_path), organization=999999)


def test_it_exports_a_month(world, tmp_path):
    path = tmp_path / "out.csv"
    call_command(
        "export_readings", organization=world.organization.pk, month="2026-10", output=str(path)
    )
    text = path.read_text(encoding="utf-8-sig")
    assert "1000015;CW-1;2026-10;130;;;" in text
    with pytest.raises(CommandError):
        call_command("export_readings", organization=world.organization.pk, month="10.2026")
