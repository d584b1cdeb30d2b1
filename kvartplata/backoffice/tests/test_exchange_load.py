"""registry_import: a whole file checked first, then written in one transaction or not at all."""

import datetime
from decimal import Decimal

import pytest

from kvartplata.backoffice.exchange.services import registry_import
from kvartplata.backoffice.tests.exchange_helpers import (
    SWITCH,
    csv_zip,
    edit,
    organization,
    tables,
    xlsx,
)
from kvartplata.billing.models import AccountBalance, LedgerEntry
from kvartplata.meters.models import Meter, Reading
from kvartplata.registry.models import Building, Period, PersonalAccount, Premises, Provider

pytestmark = pytest.mark.django_db


def load(org, data, **options):
    return registry_import(organization=org, source=xlsx(data), switch_month=SWITCH, **options)


def test_it_creates_the_whole_registry_from_a_workbook():
    org = organization()
    report = load(org, tables(accounts=6))
    assert report.ok, report.as_text()
    assert report.written
    assert Provider.objects.filter(organization=org).count() == 4
    assert Building.objects.filter(organization=org).count() == 2
    assert Premises.objects.filter(building__organization=org).count() == 6
    assert PersonalAccount.objects.filter(organization=org).count() == 6
    assert Meter.objects.filter(account__organization=org).count() == 18
    assert Meter.objects.filter(building__organization=org, scope="building").count() == 2
    assert Reading.objects.filter(meter__account__organization=org, source="import").count() == 18
    assert report.counts["accounts"] == {"created": 6, "changed": 0, "unchanged": 0}
    assert report.counts["readings"]["created"] == 18


def test_it_reads_the_same_registry_from_csv_files_in_a_zip():
    org = organization()
    report = registry_import(
        organization=org, source=csv_zip(tables(accounts=5)), switch_month=SWITCH
    )
    assert report.ok, report.as_text()
    assert PersonalAccount.objects.filter(organization=org).count() == 5


def test_it_writes_nothing_on_a_dry_run_but_reports_the_counts():
    org = organization()
    report = load(org, tables(accounts=4), dry_run=True)
    assert report.ok and not report.written
    assert report.counts["accounts"]["created"] == 4
    assert not PersonalAccount.objects.filter(organization=org).exists()
    assert "пробный запуск" in report.as_text()


def test_it_updates_instead_of_duplicating_when_the_same_file_comes_again():
    org = organization()
    data = tables(accounts=6)
    load(org, data)
    again = load(org, edit(data, "accounts", 2, "residents", "7"))
    assert again.ok, again.as_text()
    assert again.counts["accounts"] == {"created": 0, "changed": 1, "unchanged": 5}
    assert again.counts["meters"] == {"created": 0, "changed": 0, "unchanged": 18}
    assert again.counts["opening_balances"]["changed"] == 0
    assert PersonalAccount.objects.filter(organization=org).count() == 6
    number = data["accounts"][1][2][0]
    assert PersonalAccount.objects.get(organization=org, number=number).residents == 7


def test_it_keeps_the_link_code_of_an_account_on_reload():
    org = organization()
    data = tables(accounts=2)
    load(org, data)
    codes = dict(PersonalAccount.objects.values_list("number", "link_code"))
    load(org, edit(data, "accounts", 0, "holder_phone", "+79000000000"))
    assert dict(PersonalAccount.objects.values_list("number", "link_code")) == codes


@pytest.mark.parametrize(
    ("sheet", "column", "value", "reason"),
    [
        ("premises", "street", "ул. Несуществующая", "неизвестный дом"),
        ("premises", "total_area", "0", "общая площадь должна быть больше нуля"),
        ("accounts", "residents", "-1", "число проживающих не может быть меньше нуля"),
        ("accounts", "opened_on", "31.02.2020", "неверная дата"),
        ("accounts", "number", "12ab", "от 4 до 20 цифр"),
        ("meters", "last_value1", "0.001", "меньше начальных"),
        ("meters", "last_month", "2026-03", "не раньше месяца перехода"),
        ("meters", "account", "999999", "неизвестный ЛС"),
        ("meters", "next_verification_on", "2020-01-01", "следующая поверка раньше"),
        ("opening_balances", "month", "2026-04", "не раньше месяца перехода"),
        ("opening_balances", "provider_inn", "7736207544", "неизвестный поставщик"),
        ("providers", "inn", "7707083894", "ИНН"),
        ("providers", "settlement_account", "40702810138250123018", "контрольный ключ"),
        ("buildings", "total_area", "-5", "не может быть отрицательной"),
        ("buildings", "street", "у" * 121, "не длиннее 120 знаков"),
        ("buildings", "floors", "0", "этажей должно быть от 1 до 300"),
        ("accounts", "holder_last_name", "", "не заполнено: holder_last_name"),
        ("premises", "number", "", "не заполнено: number"),
        ("premises", "total_area", "1000000", "слишком велика"),
        ("premises", "floor", "40000", "этаж: от −10 до 300"),
    ],
)
def test_it_refuses_a_bad_line_with_its_sheet_line_and_reason_and_writes_nothing(
    sheet, column, value, reason
):
    org = organization()
    data = edit(tables(accounts=6), sheet, 0, column, value)
    report = load(org, data)
    assert not report.ok and not report.written
    assert [(p.sheet, p.line) for p in report.problems][:1] == [(sheet, 2)], report.as_text()
    assert reason in report.problems[0].message
    assert "Ничего не записано" in report.as_text()
    assert not PersonalAccount.objects.filter(organization=org).exists()
    assert not Provider.objects.filter(organization=org).exists()


def test_it_refuses_a_duplicate_serial_number_naming_the_first_line():
    org = organization()
    data = tables(accounts=2)
    first = data["meters"][1][0][0]
    report = load(org, edit(data, "building_meters", 0, "serial_number", first))
    assert [(p.sheet, p.line) for p in report.problems] == [("building_meters", 2)]
    assert report.problems[0].message == (f"заводской номер {first} повторяется (meters, строка 2)")
    assert not Meter.objects.exists()


def test_it_names_the_refused_line_a_reference_points_to():
    org = organization()
    data = edit(tables(accounts=1), "accounts", 0, "residents", "-1")
    number = data["accounts"][1][0][0]
    report = load(org, data)
    messages = {(p.sheet, p.line): p.message for p in report.problems}
    assert messages[("accounts", 2)] == "число проживающих не может быть меньше нуля"
    assert messages[("meters", 2)] == f"ЛС «{number}» отклонён в листе accounts, строка 2"
    assert messages[("opening_balances", 2)] == messages[("meters", 2)]


def test_it_writes_nothing_new_when_a_reload_has_one_bad_line():
    org = organization()
    data = tables(accounts=4)
    load(org, data)
    bad = edit(edit(data, "accounts", 0, "residents", "9"), "premises", 1, "total_area", "abc")
    report = load(org, bad)
    assert [(p.sheet, p.line) for p in report.problems] == [("premises", 3)]
    assert "не число" in report.problems[0].message
    number, residents = data["accounts"][1][0][0], data["accounts"][1][0][9]
    assert PersonalAccount.objects.get(number=number).residents == int(residents) != 9


def test_it_books_opening_debts_per_provider_and_month_before_the_switch_month():
    org = organization()
    report = load(org, tables(accounts=3))
    assert report.ok, report.as_text()
    opening = Period.objects.get(organization=org)
    assert opening.month == datetime.date(2026, 2, 1)
    assert opening.state == Period.State.CLOSED
    account = PersonalAccount.objects.get(organization=org, number="1000000")
    entries = LedgerEntry.objects.filter(account=account).order_by("concerns_month", "provider")
    assert {(e.concerns_month, e.provider.inn) for e in entries} == {
        (datetime.date(2026, m, 1), inn) for m in (1, 2) for inn in ("7707083893", "7702070139")
    } | {(datetime.date(2025, 12, 1), inn) for inn in ("7707083893", "7702070139")}
    assert all(e.kind == "correction" and e.period_id == opening.id for e in entries)
    balance = AccountBalance.objects.get(account=account, period=opening)
    assert balance.closing == sum((e.amount for e in entries), Decimal(0))


def test_it_refuses_changed_opening_debts_once_the_opening_month_is_closed():
    org = organization()
    data = tables(accounts=3)
    load(org, data)
    report = load(org, edit(data, "opening_balances", 0, "amount", "1.00"))
    assert [(p.sheet, p.line) for p in report.problems] == [("opening_balances", 2)]
    assert "уже загружено" in report.problems[0].message


def test_it_refuses_to_change_a_last_reading_of_a_closed_month():
    org = organization()
    data = tables(accounts=1)
    load(org, data)  # February, the opening month, is closed now
    report = load(org, edit(data, "meters", 0, "last_value1", "999.000"))
    assert [(p.sheet, p.line) for p in report.problems] == [("meters", 2)]
    assert "уже в закрытом периоде" in report.problems[0].message


def test_it_refuses_opening_debts_while_a_period_is_open():
    org = organization()
    Period.objects.create(organization=org, month=SWITCH, due_date=datetime.date(2026, 4, 15))
    report = load(org, tables(accounts=3))
    assert (
        report.problems and "до открытия первого расчётного периода" in report.problems[0].message
    )
    assert not PersonalAccount.objects.filter(organization=org).exists()


def test_it_takes_the_switch_month_from_the_open_period_when_none_is_given():
    org = organization()
    Period.objects.create(organization=org, month=SWITCH, due_date=datetime.date(2026, 4, 15))
    data = tables(accounts=3)
    data = {**data, "opening_balances": (data["opening_balances"][0], [])}
    report = registry_import(organization=org, source=xlsx(data))
    assert report.ok, report.as_text()
    assert report.switch_month == "март 2026"


def test_it_asks_for_the_switch_month_of_an_organization_without_periods():
    report = registry_import(organization=organization(), source=xlsx(tables(accounts=2)))
    assert "месяц перехода" in report.error


def test_it_moves_a_meter_to_the_account_the_file_gives_it_instead_of_making_a_second_one():
    org = organization()
    data = tables(accounts=6)
    assert load(org, data).ok
    columns, rows = data["meters"]
    other = data["accounts"][1][5][0]  # the sixth account, in another building
    report = load(org, edit(data, "meters", 0, "account", other))
    assert report.ok, report.as_text()
    assert report.counts["meters"] == {"created": 0, "changed": 1, "unchanged": 17}
    meter = Meter.objects.get(serial_number=rows[0][columns.index("serial_number")])
    assert meter.account.number == other
    assert Meter.objects.filter(account__organization=org).count() == 18


def test_it_checks_a_file_longer_than_a_batch_and_writes_nothing_if_its_last_line_is_refused(
    monkeypatch,
):
    from kvartplata.backoffice.exchange import load as loading

    monkeypatch.setattr(loading, "BATCH", 4)  # several batches written before the refusal
    org = organization()
    data = tables(accounts=12)
    last = len(data["opening_balances"][1]) - 1
    report = load(org, edit(data, "opening_balances", last, "amount", "много"))
    assert not report.ok and not report.written
    assert [p.sheet for p in report.problems] == ["opening_balances"]
    assert not PersonalAccount.objects.filter(organization=org).exists()
    assert not Meter.objects.filter(account__organization=org).exists()
    report = load(org, data)
    assert report.ok and report.counts["meters"]["created"] == 36
    assert Reading.objects.filter(meter__account__organization=org).count() == 36
