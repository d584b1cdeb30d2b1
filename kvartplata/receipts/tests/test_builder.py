"""The snapshot builder: privileges from the ledger's recalculations, the individual/common-house
split, the coefficient split rounded half-up, the linking code, the house's volume split."""

import datetime
from decimal import Decimal

import pytest

from kvartplata.billing.models import AccountBalance, Charge, Recalculation
from kvartplata.receipts.builder import ChargeRow, SnapshotBuilder
from kvartplata.receipts.snapshot import validate_snapshot
from kvartplata.receipts.tests.conftest import OCTOBER
from kvartplata.registry.models import Organization, Period

D = Decimal
ISSUED = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)


@pytest.fixture
def setup(world):
    period = Period.objects.get(organization=world.organization, month=OCTOBER)
    builder = SnapshotBuilder(period)
    account = world.resident_account
    balance = AccountBalance.objects.get(account=account, period=period)
    services = sorted(builder.services.values(), key=lambda s: s.sort_order)
    builder.build([account.id], {account.id: 1}, ISSUED)  # loads the batch's payee dues
    return builder, account, balance, services


def _row(service, kind, volume, tariff, amount, coefficient=None):
    return ChargeRow(0, service.id, kind, 0, "meter", D(volume), D(tariff), coefficient, D(amount))


def _recalc(service, amount, source, reason="Основание"):
    return Recalculation(
        service_id=service.id,
        concerns_month=datetime.date(2026, 9, 1),
        amount=D(amount),
        reason=reason,
        source=source,
    )


def test_it_puts_privileges_in_their_own_column(setup):
    builder, account, balance, services = setup
    water = services[1]
    charges = [
        _row(water, Charge.Kind.INDIVIDUAL, "4", "50.00", "200.00"),
        _row(water, Charge.Kind.COMMON_HOUSE, "0.1", "50.00", "5.00"),
    ]
    recalcs = [
        _recalc(water, "-30.00", Recalculation.Source.STAFF, "Отсутствие потребителя"),
        _recalc(water, "-102.50", Recalculation.Source.PRIVILEGE, "Льгота 50 %"),
    ]
    s = builder._snapshot(account, balance, charges, recalcs, [], 1, ISSUED)
    validate_snapshot(s)
    line = next(c for c in s["charges"] if c["service"] == water.name)
    # individual 200,00 + common-house 5,00 = charged 205,00; − 30,00 recalculated,
    # − 102,50 privilege: total 205,00 − 30,00 − 102,50 = 72,50, of which 5,00 common-house.
    assert line["amount_individual"] == "200.00"
    assert line["amount_common"] == "5.00"
    assert line["charged"] == "205.00"
    assert line["recalculations"] == "-30.00"
    assert line["privileges"] == "102.50"
    assert line["total"] == "72.50"
    assert line["total_individual"] == "67.50"
    assert line["total_common"] == "5.00"
    assert s["totals"]["privileges"] == "102.50"
    assert s["totals"]["charged"] == "205.00"
    # The ledger's recalculations (−132,50 if it holds both) less the privilege: −30,00 + …
    assert D(s["totals"]["recalculations"]) == balance.recalculations + D("102.50")
    # Section 5 lists the recalculation, not the privilege.
    assert [r["reason"] for r in s["recalculations"]] == ["Отсутствие потребителя"]


def test_it_sums_every_column_into_the_totals_row(setup):
    builder, account, balance, services = setup
    charges = [
        _row(services[0], Charge.Kind.INDIVIDUAL, "50", "30.00", "1500.00"),
        _row(services[1], Charge.Kind.INDIVIDUAL, "3", "40.00", "120.00"),
        _row(services[1], Charge.Kind.COMMON_HOUSE, "0.25", "40.00", "10.00"),
    ]
    s = builder._snapshot(account, balance, charges, [], [], 1, ISSUED)
    t = s["totals"]
    # 1 500,00 + 120,00 = 1 620,00 individual; 10,00 common-house; 1 630,00 charged.
    assert (t["amount_individual"], t["amount_common"], t["charged"]) == (
        "1620.00",
        "10.00",
        "1630.00",
    )
    assert (t["total_individual"], t["total_common"], t["charges"]) == (
        "1620.00",
        "10.00",
        "1630.00",
    )
    assert t["privileges"] == "0.00" and t["coefficient_amount"] == "0.00"


def test_it_rounds_the_coefficient_split_half_up(setup):
    builder, account, balance, services = setup
    water = services[1]
    # 3 m³ billed with coefficient 1,5: the base volume is 3 / 1,5 = 2; 2 × 10,0075 = 20,015;
    # the coefficient's part 30,04 − 20,015 = 10,025 → 10,03 half-up (half-even gave 10,02).
    charges = [_row(water, Charge.Kind.INDIVIDUAL, "3", "10.0075", "30.04", D("1.5"))]
    s = builder._snapshot(account, balance, charges, [], [], 1, ISSUED)
    line = s["charges"][0]
    assert line["coefficient_amount"] == "10.03"
    assert line["charged"] == "20.01"  # 30,04 − 10,03


def test_it_prints_the_linking_code_the_organization_accepts(setup):
    builder, account, balance, _services = setup
    s = builder._snapshot(account, balance, [], [], [], 1, ISSUED)
    assert s["account"]["link_code"] == account.link_code
    Organization.objects.filter(pk=builder.org.pk).update(
        link_proof=Organization.LinkProof.RECEIPT_TOTAL
    )
    builder = SnapshotBuilder(Period.objects.get(pk=builder.period.pk))
    s = builder.build([account.id], {account.id: 1}, ISSUED)[account.id]
    assert s["account"]["link_code"] == ""


def test_it_splits_the_houses_volume_into_flats_and_common_property(world):
    period = Period.objects.get(organization=world.organization, month=OCTOBER)
    builder = SnapshotBuilder(period)
    checked = 0
    for building_id, rows in builder.buildings.items():
        for row in rows:
            if row["flats"] is None:
                continue
            # volume by the building meter = the flats' individual volumes + the common property
            assert D(row["flats"]) + D(row["common_property"]) == D(row["volume"])
            resource = next(k for k, v in RESOURCES.items() if v == row["resource"])
            flats = sum(
                Charge.objects.filter(
                    period=period,
                    kind=Charge.Kind.INDIVIDUAL,
                    service__resource=resource,
                    account__premises__building_id=building_id,
                ).values_list("volume", flat=True),
                D(0),
            )
            assert D(row["flats"]) == flats
            checked += 1
    assert checked > 0


RESOURCES = {
    "cold_water": "Холодная вода",
    "hot_water": "Горячая вода",
    "electricity": "Электроэнергия",
    "gas": "Газ",
    "heat": "Тепловая энергия",
}


def test_it_keeps_every_phone_of_the_executor(world):
    phones = ", ".join(f"+7 (4912) 55-0{k}-00" for k in range(5))
    Organization.objects.filter(pk=world.organization.pk).update(phones=phones)
    period = Period.objects.get(organization=world.organization, month=OCTOBER)
    assert len(SnapshotBuilder(period).organization["phones"]) == 5


def test_it_prints_each_volume_with_its_services_billing_places(world, tmp_path):
    from kvartplata.receipts import pdf
    from kvartplata.receipts.tests.test_pdf import raw_text

    period = Period.objects.get(organization=world.organization, month=OCTOBER)
    builder = SnapshotBuilder(period)
    account = world.resident_account
    s = builder.build([account.id], {account.id: 1}, ISSUED)[account.id]
    by_name = sorted(builder.services.values(), key=lambda v: -len(v.name))
    text = " ".join(raw_text(pdf.render_receipt(s), tmp_path).split())
    checked = 0
    for line in s["charges"]:
        service = next(v for v in by_name if line["service"].startswith(v.name))
        for volume in (line["volume"], line["common_volume"]):
            if volume is None:
                continue
            # m³ 0,001; Gcal 0,0001; kWh 0,01; m² 0,01 — "12.000" stays "12,000" on paper.
            assert len(volume.partition(".")[2]) == service.places, (line, service.places)
            assert pdf._vol(volume) in text
            checked += 1
    assert checked >= 5
