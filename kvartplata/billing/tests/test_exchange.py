"""Charges export and import (an external billing system instead of the run)."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from kvartplata.billing.exchange import ImportRefused, charges_import
from kvartplata.billing.models import AccountBalance, Charge, Period
from kvartplata.billing.services import billing_run
from kvartplata.billing.tests import factories as f

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
    acc.number = '=HYPERLINK("http://evil.example")'
    acc.save(update_fields=["number"])
    svc.code = "@SUM(1+1)"
    svc.save(update_fields=["code"])
    Charge.objects.filter(account=acc).update(amount=Decimal("-15.00"))
    out = tmp_path / "charges.csv"
    call_command("billing_export", period="2026-03", out=str(out))
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8")), delimiter=";"))
    assert rows[1] == [
        "2026-03",
        '\'=HYPERLINK("http://evil.example")',
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
