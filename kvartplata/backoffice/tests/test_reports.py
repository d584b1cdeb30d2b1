"""The reports reconcile with the journal to the kopeck, on a small demo world.

The expected figures are summed here in Python from the journal's entries one by one; the
reports aggregate in SQL.
"""

import csv
import datetime
import io
import zipfile
from collections import defaultdict
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse

from kvartplata.backoffice import reports
from kvartplata.billing.models import LedgerEntry
from kvartplata.billing.services import billing_run
from kvartplata.demo.world import build
from kvartplata.meters.models import Reading
from kvartplata.registry.models import Organization

D = Decimal
ZERO = D("0.00")
MSK = datetime.timezone(datetime.timedelta(hours=3))
AUGUST = datetime.date(2026, 8, 1)
SEPTEMBER = datetime.date(2026, 9, 1)
OCTOBER = datetime.date(2026, 10, 1)
NOVEMBER = datetime.date(2026, 11, 1)


@pytest.fixture
def world(db):
    with time_machine.travel(datetime.datetime(2026, 11, 25, 12, 0, tzinfo=MSK), tick=False):
        w = build(accounts=20, months=4, today=datetime.date(2026, 11, 25))
        billing_run(organization=w.organization)  # November billed, not closed
        yield w


@pytest.fixture
def operator(world):
    return get_user_model().objects.get(username="operator")


@pytest.fixture
def office(client, operator):
    client.force_login(operator)
    return client


def _entries(world, last):
    """(account_id, provider_id, month booked, kind, amount) of every entry up to `last`."""
    return list(
        LedgerEntry.objects.filter(
            period__organization=world.organization, period__month__lte=last
        ).values_list("account_id", "provider_id", "period__month", "kind", "amount")
    )


def _expected(world, first, last, key):
    """The ОСВ by hand: per key (account or provider), opening/charged/…/closing."""
    sums = defaultdict(lambda: defaultdict(lambda: ZERO))
    for account_id, provider_id, month, kind, amount in _entries(world, last):
        k = key(account_id, provider_id)
        if month < first:
            sums[k]["opening"] += amount
            continue
        column = {
            "charge": "charged",
            "correction": "charged",
            "recalculation": "recalculations",
            "penalty": "penalties",
            "payment": "paid",
        }[kind]
        sums[k][column] += -amount if kind == "payment" else amount
    for row in sums.values():
        row["closing"] = (
            row["opening"] + row["charged"] + row["recalculations"] + row["penalties"] - row["paid"]
        )
    return sums


def _as_dicts(report):
    keys = [c.key for c in report.columns]
    return [dict(zip(keys, row, strict=True)) for row in report.rows]


MONEY = ["opening", "charged", "recalculations", "penalties", "paid", "closing"]


@pytest.mark.parametrize("first,last", [(SEPTEMBER, NOVEMBER), (OCTOBER, OCTOBER)])
def test_it_reconciles_the_turnover_by_account_with_the_ledger(world, first, last):
    report = reports.turnover(world.organization.id, first, last, "account")
    numbers = dict(world.organization.accounts.values_list("number", "id"))
    expected = _expected(world, first, last, lambda account_id, _p: account_id)
    rows = _as_dicts(report)
    assert len(rows) == len(numbers)
    assert any(row["paid"] and row["charged"] for row in rows)
    for row in rows:
        want = expected.get(numbers[row["number"]], defaultdict(lambda: ZERO))
        for column in MONEY:
            assert row[column] == want[column], (row["number"], column)
    # The closing of the last month is the materialized balance of that month as well.
    assert report.totals[-1] == sum((r["closing"] for r in expected.values()), ZERO)


def test_the_groupings_add_up_to_the_same_totals(world):
    by_account = reports.turnover(world.organization.id, SEPTEMBER, NOVEMBER, "account")
    by_building = reports.turnover(world.organization.id, SEPTEMBER, NOVEMBER, "building")
    by_provider = reports.turnover(world.organization.id, SEPTEMBER, NOVEMBER, "provider")
    money = len(MONEY)
    assert by_account.totals[-money:] == by_building.totals[-money:]
    assert by_account.totals[-money:] == by_provider.totals[-money:]
    expected = _expected(world, SEPTEMBER, NOVEMBER, lambda _a, provider_id: provider_id)
    for row in _as_dicts(by_provider):
        assert row["closing"] in {r["closing"] for r in expected.values()}
    by_service = reports.turnover(world.organization.id, SEPTEMBER, NOVEMBER, "service")
    charged = sum(
        (r["charged"] for r in expected.values()), ZERO
    )  # the journal's charges (no corrections in the demo)
    assert by_service.totals[1] == charged
    assert by_service.totals[2] == sum((r["recalculations"] for r in expected.values()), ZERO)


def test_it_reconciles_the_debtors_with_the_ledger(world):
    report = reports.debtors(world.organization.id, OCTOBER)
    balances = defaultdict(lambda: ZERO)
    penalties = defaultdict(lambda: ZERO)
    for account_id, _p, _m, kind, amount in _entries(world, OCTOBER):
        balances[account_id] += amount
        if kind == "penalty":
            penalties[account_id] += amount
    numbers = dict(world.organization.accounts.values_list("number", "id"))
    rows = _as_dicts(report)
    assert rows, "the demo world has debtors"
    assert {numbers[r["number"]] for r in rows} == {a for a, b in balances.items() if b > 0}
    for row in rows:
        account_id = numbers[row["number"]]
        assert row["balance"] == balances[account_id]
        assert row["penalties"] == penalties[account_id]
        ages = [row[key] for key, *_rest in reports.AGING]
        assert row["principal"] == sum(ages, ZERO)
        # An advance to one payee never pays another's debt: unpaid ≥ the net without penalties.
        assert row["principal"] >= row["balance"] - row["penalties"]
    assert report.totals[-1] == sum((b for b in balances.values() if b > 0), ZERO)
    threshold = max(r["balance"] for r in rows)
    only = reports.debtors(world.organization.id, OCTOBER, min_debt=threshold)
    assert [r[0] for r in only.rows] == [r["number"] for r in rows if r["balance"] >= threshold]


def test_it_ages_debts_by_whole_months():
    # October seen in October is 1 month; August in October is 3 (Aug, Sep, Oct): «2–3».
    assert reports.AGING[reports.age_bucket(OCTOBER, OCTOBER)][0] == "age_1"
    assert reports.AGING[reports.age_bucket(AUGUST, OCTOBER)][0] == "age_2_3"
    # May 2026 → October: 6 months; November 2025 → October 2026: 12; October 2025: 13.
    assert reports.AGING[reports.age_bucket(datetime.date(2026, 5, 1), OCTOBER)][0] == "age_4_6"
    assert reports.AGING[reports.age_bucket(datetime.date(2025, 11, 1), OCTOBER)][0] == "age_7_12"
    assert reports.AGING[reports.age_bucket(datetime.date(2025, 10, 1), OCTOBER)][0] == "age_13"


def test_it_reconciles_the_collections_with_the_ledger(world):
    report = reports.collections(world.organization.id, AUGUST, NOVEMBER)
    charged = defaultdict(lambda: ZERO)
    paid = defaultdict(lambda: ZERO)
    for _a, _p, month, kind, amount in _entries(world, NOVEMBER):
        if month < AUGUST:
            continue
        if kind == "payment":
            paid[month] -= amount
        else:
            charged[month] += amount
    rows = _as_dicts(report)
    assert [r["charged"] for r in rows] == [charged[m] for m in sorted(charged)]
    assert [r["paid"] for r in rows] == [paid[m] for m in sorted(charged)]
    by_bank = reports.collections_by_bank(world.organization.id, AUGUST, NOVEMBER)
    assert by_bank.totals[-1] == sum(paid.values(), ZERO) == report.totals[2]


def test_it_counts_the_readings_sent_by_building(world):
    report = reports.readings(world.organization.id, OCTOBER, NOVEMBER)
    rows = _as_dicts(report)
    for month in (OCTOBER, NOVEMBER):
        sent = (
            Reading.objects.filter(
                month=month, is_accepted=True, meter__account__organization=world.organization
            )
            .values("meter__account_id")
            .distinct()
            .count()
        )
        label = reports.period_label(month)
        assert sum(r["sent"] for r in rows if r["month"] == label) == sent
        for r in rows:
            assert r["sent"] + r["missing"] == r["metered"]


# --- the pages --------------------------------------------------------------------------------

PAGES = [
    ("office_reports:turnover", {}),
    ("office_reports:turnover", {"first": "2026-08", "last": "2026-11", "by": "building"}),
    ("office_reports:turnover", {"by": "provider"}),
    ("office_reports:turnover", {"by": "service"}),
    ("office_reports:debtors", {"min_debt": "100,50"}),
    ("office_reports:collections", {}),
    ("office_reports:collections", {"by": "bank"}),
    ("office_reports:readings", {}),
]


@pytest.mark.parametrize("name,params", PAGES)
def test_it_shows_every_report(office, world, name, params, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        response = office.get(reverse(name), params)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="report"' in html
    assert "Скачать .xlsx" in html


def test_it_downloads_csv_with_safe_cells(office, world):
    account = world.organization.accounts.order_by("number").first()
    account.holder_last_name = '=HYPERLINK("http://x")'
    account.save(update_fields=["holder_last_name"])
    response = office.get(reverse("office_reports:turnover"), {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:3] == ["Лицевой счёт", "Абонент", "Адрес"]
    holder = next(r[1] for r in rows if r[0] == account.number)
    assert holder.startswith("'=HYPERLINK")
    assert rows[-1][0] == "Итого"
    # The same figures as on screen, the Russian way: «12345,67».
    report = reports.turnover(world.organization.id, NOVEMBER, NOVEMBER, "account")
    assert rows[-1][-1] == str(report.totals[-1]).replace(".", ",")


def test_it_downloads_xlsx(office, world):
    response = office.get(reverse("office_reports:debtors"), {"format": "xlsx"})
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        strings = (
            book.read("xl/sharedStrings.xml").decode()
            if "xl/sharedStrings.xml" in (book.namelist())
            else sheet
        )
    assert "Должники" in strings
    assert "<v>" in sheet  # numbers are numbers


def test_it_refuses_bad_filters_with_a_message(office, world):
    for params in (
        {"first": "2026-11", "last": "2026-09"},
        {"first": "1999-01"},
        {"first": "abc"},
    ):
        response = office.get(reverse("office_reports:turnover"), params)
        assert response.status_code == 400
        assert "errorlist" in response.content.decode()
    response = office.get(reverse("office_reports:debtors"), {"min_debt": "много"})
    assert response.status_code == 400
    assert "Введите сумму в рублях" in response.content.decode()


def test_it_needs_the_office_sign_in_and_the_permission(client, world, operator):
    url = reverse("office_reports:turnover")
    response = client.get(url)
    assert response.status_code == 302
    assert "/office/login/" in response.url
    nobody = get_user_model().objects.create_user(
        username="stazher", password="x-pass-12345", is_staff=True, organization=world.organization
    )
    client.force_login(nobody)
    assert client.get(url).status_code == 403


def test_staff_of_another_organization_see_only_their_own(client, world, operator):
    other = Organization.objects.create(
        name="УК «Другая»",
        short_name="Другая",
        address="г. Город",
        inn="7701234560",
        bic="044525225",
        bank_name="Банк",
        correspondent_account="30101810400000000225",
        settlement_account="40702810200000000001",
    )
    stranger = get_user_model().objects.create_user(
        username="chuzhoy", password="x-pass-12345", is_staff=True, organization=other
    )
    stranger.groups.set(operator.groups.all())
    client.force_login(stranger)
    response = client.get(reverse("office_reports:turnover"))
    assert response.status_code == 200
    assert response.context["report"] is None  # no months of its own
    account = world.organization.accounts.first()
    assert account.number not in response.content.decode()
    # A superuser's choice of organization is not open to staff: they stay in their own.
    url = reverse("office_reports:debtors")
    response = client.get(url, {"organization": world.organization.id})
    assert account.number not in response.content.decode()


def test_it_filters_by_building(office, world):
    building = world.organization.buildings.order_by("id").first()
    numbers = set(
        world.organization.accounts.filter(premises__building=building).values_list(
            "number", flat=True
        )
    )
    whole = reports.turnover(world.organization.id, SEPTEMBER, NOVEMBER, "account")
    one = reports.turnover(
        world.organization.id, SEPTEMBER, NOVEMBER, "account", building_id=building.id
    )
    assert {r[0] for r in one.rows} == numbers
    assert one.rows == [r for r in whole.rows if r[0] in numbers]
    debt = reports.debtors(world.organization.id, OCTOBER, building_id=building.id)
    assert {r[0] for r in debt.rows} <= numbers
    response = office.get(reverse("office_reports:debtors"), {"building": str(building.id)})
    assert response.status_code == 200
    response = office.get(reverse("office_reports:turnover"), {"building": "999999"})
    assert response.status_code == 400
    assert "Выберите дом из списка" in response.content.decode()


# --- the open month, pages ----------------------------------------------------------------------


@pytest.fixture
def open_world(db):
    """November open (not billed): its movement is only in the journal, no balances yet."""
    with time_machine.travel(datetime.datetime(2026, 11, 25, 12, 0, tzinfo=MSK), tick=False):
        yield build(accounts=20, months=4, today=datetime.date(2026, 11, 25))


def test_it_reconciles_a_range_with_the_open_month_from_the_journal(open_world):
    world = open_world
    assert world.organization.periods.get(month=NOVEMBER).state == "open"
    report = reports.turnover(world.organization.id, OCTOBER, NOVEMBER, "account")
    numbers = dict(world.organization.accounts.values_list("number", "id"))
    expected = _expected(world, OCTOBER, NOVEMBER, lambda account_id, _p: account_id)
    rows = _as_dicts(report)
    assert any(row["paid"] for row in rows)
    for row in rows:
        want = expected.get(numbers[row["number"]], defaultdict(lambda: ZERO))
        for column in MONEY:
            assert row[column] == want[column], (row["number"], column)
    by_building = reports.turnover(world.organization.id, OCTOBER, NOVEMBER, "building")
    assert by_building.totals[-len(MONEY) :] == report.totals[-len(MONEY) :]
    debt = reports.debtors(world.organization.id, NOVEMBER)
    balances = defaultdict(lambda: ZERO)
    for account_id, _p, _m, _kind, amount in _entries(world, NOVEMBER):
        balances[account_id] += amount
    assert {numbers[r["number"]] for r in _as_dicts(debt)} == {
        a for a, b in balances.items() if b > 0
    }
    assert debt.totals[-1] == sum((b for b in balances.values() if b > 0), ZERO)
    collected = reports.collections(world.organization.id, OCTOBER, NOVEMBER)
    paid = -sum(
        (a for _a, _p, m, k, a in _entries(world, NOVEMBER) if k == "payment" and m >= OCTOBER),
        ZERO,
    )
    assert collected.totals[2] == paid


def test_a_page_of_the_turnover_by_account_has_the_totals_of_all_rows(world):
    whole = reports.turnover(world.organization.id, SEPTEMBER, NOVEMBER, "account")
    first = reports.turnover(world.organization.id, SEPTEMBER, NOVEMBER, "account", limit=7)
    second = reports.turnover(
        world.organization.id, SEPTEMBER, NOVEMBER, "account", offset=7, limit=7
    )
    assert first.rows == whole.rows[:7]
    assert second.rows == whole.rows[7:14]
    assert first.count == second.count == len(whole.rows)
    assert first.totals == second.totals == whole.totals


def test_it_shows_a_report_page_by_page(office, world, monkeypatch, django_assert_max_num_queries):
    from kvartplata.backoffice import report_views

    monkeypatch.setattr(report_views, "SCREEN_ROWS", 6)
    whole = reports.turnover(world.organization.id, NOVEMBER, NOVEMBER, "account")
    with django_assert_max_num_queries(20):
        response = office.get(reverse("office_reports:turnover"), {"page": "2"})
    assert response.status_code == 200
    assert [r[0] for r in response.context["rows"]] == [r[0] for r in whole.rows[6:12]]
    assert response.context["report"].totals == whole.totals
    html = response.content.decode()
    assert "страница 2 из 4" in html
    assert 'rel="prev"' in html and 'rel="next"' in html
    # The debtors are cut the same way; a page past the end shows the last one.
    response = office.get(reverse("office_reports:debtors"), {"page": "99"})
    assert response.status_code == 200
    assert len(response.context["rows"]) <= 6
    # The downloads hold every row.
    response = office.get(reverse("office_reports:turnover"), {"format": "csv", "page": "2"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert len(text.strip().splitlines()) == len(whole.rows) + 2
