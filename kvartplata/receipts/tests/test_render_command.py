"""`manage.py receipts_render`: a month's receipts as PDF files for the print shop."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from kvartplata.receipts import pdf
from kvartplata.receipts.models import Receipt
from kvartplata.receipts.tests.conftest import OCTOBER


def _run(*args):
    out, err = StringIO(), StringIO()
    call_command("receipts_render", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_writes_one_pdf_per_receipt_of_the_month(world, tmp_path):
    out_dir = tmp_path / "print"
    out, _err = _run("--period", "2026-10", "--out", str(out_dir))
    receipts = Receipt.objects.filter(month=OCTOBER).select_related("account")
    files = sorted(p.name for p in out_dir.iterdir())
    assert files == sorted(f"2026-10-{r.account.number}.pdf" for r in receipts)
    assert f"Файлов: {len(files)}" in out
    sample = receipts.get(account=world.resident_account)
    written = (out_dir / f"2026-10-{sample.account.number}.pdf").read_bytes()
    assert written == pdf.render_receipt(sample.data)


def test_it_writes_one_accounts_receipt(world, tmp_path):
    number = world.resident_account.number
    _run("--period", "2026-09", "--out", str(tmp_path), "--account", number, "--verbosity", "0")
    assert [p.name for p in tmp_path.iterdir()] == [f"2026-09-{number}.pdf"]


def test_it_refuses_an_open_period(world, tmp_path):
    with pytest.raises(CommandError, match="не закрыт"):
        _run("--period", "2026-11", "--out", str(tmp_path / "x"))
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2026-13"], "Неверный период"),
        (["--period", "2020-01"], "Периода 2020-01 нет"),
        (["--period", "2026-10", "--account", "0000000000"], "Квитанции по счёту"),
    ],
)
def test_it_explains_bad_input(world, tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        _run(*args, "--out", str(tmp_path), "--verbosity", "0")


def test_it_keeps_file_names_inside_the_folder(world, tmp_path):
    from kvartplata.receipts.services import _safe

    assert _safe("../../etc/passwd") == "etc_passwd"
    assert "/" not in _safe("12/34")


def test_it_renders_the_same_files_with_worker_processes(world, tmp_path):
    _run("--period", "2026-10", "--out", str(tmp_path / "one"), "--jobs", "1", "--verbosity", "0")
    out, _err = _run("--period", "2026-10", "--out", str(tmp_path / "two"), "--jobs", "2")
    one = {p.name: p.read_bytes() for p in (tmp_path / "one").iterdir()}
    two = {p.name: p.read_bytes() for p in (tmp_path / "two").iterdir()}
    assert len(one) == Receipt.objects.filter(month=OCTOBER).count() > 0
    assert one == two
    assert f"Файлов: {len(two)}" in out


@pytest.mark.parametrize("jobs", ["0", "-1", "1000"])
def test_it_refuses_a_bad_number_of_jobs(world, tmp_path, jobs):
    with pytest.raises(CommandError, match="--jobs"):
        _run("--period", "2026-10", "--out", str(tmp_path), "--jobs", jobs)
