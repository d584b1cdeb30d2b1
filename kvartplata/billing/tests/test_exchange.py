"""Charges export and import (an external billing system instead of the run)."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvartplata.billing.exchange import ImportRefused, charges_import
from kvartplata.billing.models import AccountBalance, Charge
from kvartplata.billing.services import billing_run
from kvartplata.billing.tests import factories as f
from kvartplata.registry.models import Period

MARCH = datetime.date(2026, 3, 1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    org, acc, svc = f.area_world(MARCH)
    return org, acc, svc


def csv_file(*lines):
    text = "period;account;service;kind;zone;volume;tariff;amount\n" + "\n".join(lines) + "\n"
    return io.BytesIO(text.encode("utf-8"))


def test_it_exports_the_month(world, tmp_path, capsys):
    org, acc, _ = world
    billing_run(organization=org)
    out = tmp_path / "charges.csv"
    call_command("billing_export", period="2026-03", out=str(out))
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "period;account;service;kind;zone;method;volume;tariff;amount"
    assert lines[1] == f"2026-03;{acc.number};maint;individual;0;area;50.000000;30.0000;1500.00"


def test_it_exports_no_formula(world, tmp_path):
    org, acc, svc = world
    billing_run(organization=org)
    acc.number = '=HYPERLINK("x")'
    acc.save(update_fields=["number"])
    svc.code = "@SUM(1+1)"
    svc.save(update_fields=["code"])
    Charge.objects.filter(account=acc).update(amount=Decimal("-15.00"))
    out = tmp_path / "charges.csv"
    call_command("billing_export", period="2026-03", out=str(out))
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8")), delimiter=";"))
    assert rows[1] == [
        "2026-03",
        '\'=HYPERLINK("x")',
        "'@SUM(1+1)",
        "individual",
        "0",
        "area",
        "50.000000",
        "30.0000",
        "-15.00",
    ]


def test_it_imports_external_charges(world):
    org, acc, svc = world
    result = charges_import(
        organization=org,
        stream=csv_file(f"2026-03;{acc.number};maint;individual;0;50;30,5;1525,00"),
    )
    assert result["lines"] == 1
    charge = Charge.objects.get(account=acc)
    assert (charge.method, charge.amount, charge.tariff) == (
        "imported",
        Decimal("1525.00"),
        Decimal("30.5"),
    )
    assert AccountBalance.objects.get(account=acc).closing == Decimal("1525.00")
    assert Period.objects.get(month=MARCH).state == "billed"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("2026-04;{n};maint;individual;0;50;30;1500.00", "не открыт"),
        ("2026-03;999999;maint;individual;0;50;30;1500.00", "не найден"),
        ("2026-03;{n};nope;individual;0;50;30;1500.00", "не найдена"),
        ("2026-03;{n};maint;other;0;50;30;1500.00", "вид"),
        ("2026-03;{n};maint;individual;7;50;30;1500.00", "зона"),
        ("2026-03;{n};maint;individual;0;abc;30;1500.00", "не число"),
        ("2026-03;{n};maint;individual;0;50;30;1500.001", "не число"),
        ("2026-03;{n};maint", "полей"),
        # Out of range (issue #16): never stored as Inf, never a 500 later.
        ("2026-03;{n};maint;individual;0;1e400;30;1500.00", "Объём 1E+400 — слишком большое"),
        ("2026-03;{n};maint;individual;0;50;30;99999999999999999999.99", "больше допустимой"),
        ("2026-03;{n};maint;individual;0;50;30;1000000.01", "больше допустимой"),
        ("2026-03;{n};maint;individual;0;-5;30;1500.00", "Объём -5 — отрицательное"),
        ("2026-03;{n};maint;individual;0;50;-30;1500.00", "Тариф -30 — отрицательное"),
        ("2026-03;{n};maint;individual;0;50;30;-1500.00", "Сумма -1500.00 — отрицательное"),
        ("2026-03;{n};maint;individual;0;50;1e9;1500.00", "Тариф 1E+9 — слишком большое"),
        ("2026-03;{n};maint;individual;0;NaN;30;1500.00", "не число"),
        ("2026-03;{n};maint;individual;0;Infinity;30;1500.00", "не число"),
        ("2026-03;{n};maint;individual;0;" + "5" * 200_000 + ";30;1.00", "не читается как CSV"),
    ],
)
def test_it_refuses_a_bad_file_whole(world, line, message):
    org, acc, _ = world
    good = f"2026-03;{acc.number};maint;common_house;0;1;30;30.00"
    with pytest.raises(ImportRefused) as refused:
        charges_import(organization=org, stream=csv_file(good, line.format(n=acc.number)))
    assert message in " ".join(refused.value.errors)
    assert not Charge.objects.exists()


def test_it_refuses_an_empty_file_and_a_wrong_header(world):
    org, _, _ = world
    with pytest.raises(ImportRefused, match="пуст"):
        charges_import(organization=org, stream=io.BytesIO(b""))
    with pytest.raises(ImportRefused, match="заголовок"):
        charges_import(organization=org, stream=io.BytesIO(b"a;b\n1;2\n"))
    with pytest.raises(ImportRefused, match="UTF-8"):
        charges_import(organization=org, stream=io.BytesIO("период".encode("cp1251")))


def test_it_takes_the_maximum_per_line_from_the_settings(world, settings):
    org, acc, _ = world
    settings.MAX_LINE_AMOUNT = "100.00"
    with pytest.raises(ImportRefused) as refused:
        charges_import(
            organization=org,
            stream=csv_file(f"2026-03;{acc.number};maint;individual;0;50;30;1500.00"),
        )
    assert refused.value.errors == [
        "Строка 2: Сумма 1500.00 ₽ — больше допустимой для одной строки "
        "(100,00\u00a0₽, настройка MAX_LINE_AMOUNT)."
    ]


field = st.one_of(
    st.sampled_from(["2026-03", "000001", "maint", "individual", "common_house", "0", "3"]),
    st.sampled_from(["1e400", "-1", "NaN", "sNaN", "-0", "1E-7", "99999999999999999999.99"]),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.text(max_size=12),
)
line = st.lists(field, min_size=0, max_size=10).map(";".join)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(lines=st.lists(line, min_size=1, max_size=4), at=st.integers(0, 4))
def test_it_never_lets_random_lines_escape_or_half_store(world, lines, at):
    org, acc, _ = world
    # A good line among random ones: the file goes in whole or not at all.
    lines.insert(at, f"2026-03;{acc.number};maint;common_house;0;1;30;30.00")
    try:
        charges_import(organization=org, stream=csv_file(*lines))
    except ImportRefused as refused:
        assert all(error.startswith("Строка ") for error in refused.errors)
        assert not Charge.objects.exists()
    else:
        for charge in Charge.objects.all():
            assert charge.volume.is_finite() and charge.volume >= 0
            assert 0 <= charge.amount <= Decimal("1000000.00")
        Charge.objects.all().delete()
