"""The billing run on hand-made worlds: each rule with its arithmetic written out."""

import datetime
from decimal import Decimal

import pytest

from kvartplata.billing.models import Charge, LedgerEntry, Norm, Recalculation
from kvartplata.billing.services import BillingError, billing_run, period_close
from kvartplata.billing.tests import factories as f

D = Decimal
MARCH = datetime.date(2026, 3, 1)
APRIL = datetime.date(2026, 4, 1)
pytestmark = pytest.mark.django_db


def line(acc, service, kind="individual", month=MARCH, zone=0):
    return Charge.objects.get(
        account=acc, service=service, kind=kind, period__month=month, zone=zone
    )


def test_it_reproduces_the_worked_common_house_example():
    # Formula 12: (12000 − 1000 − 4000 − 5000) × 60 / 2400 = 50 m³; × 1,936 ₽ = 96,80 ₽.
    org = f.organization(cap_common_house_by_norm=False)
    prov = f.provider(org)
    bld = f.building(org, total_area="2400")
    flat = f.account(org, bld, "1", area="60")
    shop = f.account(org, bld, "2", area="100", kind="non_residential")
    by_norm = f.account(org, bld, "3", area="2240", residents=1)
    water = f.service(
        org,
        prov,
        "cold",
        method="meter",
        resource="cold_water",
        price="1.936",
        has_common_house=True,
        meter_installable=False,
    )
    f.norm(water, Norm.Kind.PER_PERSON, "4000")  # 1 person × 4000 m³: the "flats by norm" term
    f.open_month(org, MARCH)
    f.reading(f.meter(account=flat), MARCH, "5000")
    f.reading(f.meter(account=shop), MARCH, "1000")
    f.reading(f.meter(building=bld, digits=8), MARCH, "12000")

    billing_run(organization=org)

    assert line(by_norm, water).volume == D("4000")
    assert line(by_norm, water).method == "norm"
    common = line(flat, water, kind="common_house")
    assert common.volume == D("50")
    assert common.amount == D("96.80")
    assert common.method == "common_house_meter"


def test_it_caps_common_house_by_the_norm_and_uses_formula_15_without_a_meter():
    org = f.organization(cap_common_house_by_norm=True)
    prov = f.provider(org)
    with_meter = f.building(org, total_area="1000", common_area="200", house="1")
    without_meter = f.building(org, total_area="1000", common_area="200", house="2")
    a = f.account(org, with_meter, "1", area="50")
    b = f.account(org, without_meter, "2", area="50")
    water = f.service(
        org,
        prov,
        "cold",
        method="meter",
        resource="cold_water",
        price="40",
        has_common_house=True,
    )
    f.norm(water, Norm.Kind.COMMON_AREA, "0.03")
    f.norm(water, Norm.Kind.PER_PERSON, "5")
    f.open_month(org, MARCH)
    f.reading(f.meter(account=a), MARCH, "10")
    f.reading(f.meter(account=b), MARCH, "10")
    f.reading(f.meter(building=with_meter, digits=8), MARCH, "500")

    billing_run(organization=org)

    # Formula 15 cap: 0,03 × 200 × 50 / 1000 = 0,3 m³. By the meter: (500 − 10) × 50 / 1000
    # = 24,5 m³, capped to 0,3 m³; × 40 ₽ = 12,00 ₽.
    capped = line(a, water, kind="common_house")
    assert capped.volume == D("0.3")
    assert capped.amount == D("12.00")
    # No building meter: formula 15 itself, 0,3 m³ × 40 ₽ = 12,00 ₽.
    by_norm = line(b, water, kind="common_house")
    assert by_norm.method == "common_house_norm"
    assert by_norm.amount == D("12.00")


def world_with_meter(**service_extra):
    org = f.organization()
    prov = f.provider(org)
    bld = f.building(org, total_area="1000")
    acc = f.account(org, bld, "1", area="50", residents=3)
    water = f.service(
        org, prov, "cold", method="meter", resource="cold_water", price="45.67", **service_extra
    )
    f.norm(water, Norm.Kind.PER_PERSON, "4.745")
    return org, acc, water


def test_it_bills_by_meter_then_average_then_norm_and_recalculates_late_readings():
    org, acc, water = world_with_meter()
    m = f.meter(account=acc, initial="100")
    month = datetime.date(2025, 9, 1)
    f.open_month(org, month)
    value = D("100")
    # Six months with readings, 12 m³ a month: 12,000 m³ × 45,67 ₽ = 548,04 ₽.
    for _ in range(6):
        value += 12
        f.reading(m, month, value)
        billing_run(organization=org)
        assert line(acc, water, month=month).amount == D("548.04")
        period_close(organization=org)
        month = datetime.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    # Three months without readings: the average of 12 m³ each.
    gap = []
    for _ in range(3):
        billing_run(organization=org)
        charge = line(acc, water, month=month)
        assert (charge.method, charge.volume, charge.amount) == ("average", D(12), D("548.04"))
        gap.append(month)
        period_close(organization=org)
        month = datetime.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    # The 4th month: the norm, 3 persons × 4,745 m³ = 14,235 m³ × 45,67 ₽ = 650,11 ₽.
    billing_run(organization=org)
    charge = line(acc, water, month=month)
    assert (charge.method, charge.volume, charge.amount) == ("norm", D("14.235"), D("650.11"))
    gap.append(month)
    period_close(organization=org)
    month = datetime.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    # Readings arrive: 50 m³ over 5 months (4 estimated + this one) = 10 m³ a month.
    f.reading(m, month, value + 50)
    billing_run(organization=org)
    charge = line(acc, water, month=month)
    assert (charge.method, charge.volume, charge.amount) == ("meter", D(10), D("456.70"))
    recalcs = {r.concerns_month: r.amount for r in Recalculation.objects.filter(account=acc)}
    # Average months: (10 − 12) × 45,67 = −91,34 ₽ each; the norm month: (10 − 14,235) × 45,67
    # = −193,41 ₽.
    assert recalcs == {
        gap[0]: D("-91.34"),
        gap[1]: D("-91.34"),
        gap[2]: D("-91.34"),
        gap[3]: D("-193.41"),
    }
    entries = LedgerEntry.objects.filter(account=acc, kind="recalculation", period__month=month)
    assert sum(e.amount for e in entries) == D("-467.43")
    # The line says which months the readings replaced, what they were billed and the
    # recalculation of each, from the stored meter states and recalculations.
    from kvartplata.billing import explain

    explain.attach([charge], acc, charge.period)
    assert charge.explanation == (
        f"по показаниям прибора № {m.serial_number}: 222,000 − 172,000 = 50,000 "
        "(расход за 5 мес. поровну по 10,000 м³: "
        "март 2026 — было 12,000 м³, перерасчёт −91,34\u00a0₽; "
        "апрель 2026 — было 12,000 м³, перерасчёт −91,34\u00a0₽; "
        "май 2026 — было 12,000 м³, перерасчёт −91,34\u00a0₽; "
        "июнь 2026 — было 14,235 м³, перерасчёт −193,41\u00a0₽; этот месяц 10,000 м³); "
        "10,000 м³ × 45,67 ₽ = 456,70\u00a0₽"
    )


def test_it_applies_the_coefficient_without_a_meter_that_could_be_installed():
    org, acc, water = world_with_meter(meter_installable=True)
    f.open_month(org, MARCH)
    billing_run(organization=org)
    # Cold water in March 2026: coefficient 3 (from 6 December 2025).
    # 3 persons × 4,745 × 3 = 42,705 m³ × 45,67 ₽ = 1 950,33735 → 1 950,34 ₽.
    charge = line(acc, water)
    assert (charge.method, charge.volume, charge.coefficient, charge.amount) == (
        "norm_coefficient",
        D("42.705"),
        D("3"),
        D("1950.34"),
    )


def test_it_applies_the_coefficient_of_the_resource_and_the_month():
    org, acc, water = world_with_meter(meter_installable=True)
    hot = f.service(
        org, water.provider, "hot", method="meter", resource="hot_water", price="200.05"
    )
    f.norm(hot, Norm.Kind.PER_PERSON, "3.003")
    november = datetime.date(2025, 11, 1)
    f.open_month(org, november)
    billing_run(organization=org)
    # Cold water in November 2025: 1,5. 3 × 4,745 = 14,235 × 1,5 = 21,3525 → 21,353 m³ (half-up
    # to 0,001 before pricing); 21,353 × 45,67 ₽ = 975,19151 → 975,19 ₽.
    cold = line(acc, water, month=november)
    assert (cold.volume, cold.coefficient, cold.amount) == (D("21.353"), D("1.5"), D("975.19"))
    # Hot water: 1,5. 3 × 3,003 = 9,009 × 1,5 = 13,5135 → 13,514 m³ × 200,05 ₽ = 2 703,4757
    # → 2 703,48 ₽.
    assert (line(acc, hot, month=november).volume, line(acc, hot, month=november).amount) == (
        D("13.514"),
        D("2703.48"),
    )
    period_close(organization=org)
    # December 2025: the month's first day decides, so cold water is still 1,5 (3 applies from
    # 6 December, i.e. from January's bill on).
    billing_run(organization=org)
    december = datetime.date(2025, 12, 1)
    assert line(acc, water, month=december).coefficient == D("1.5")
    period_close(organization=org)
    billing_run(organization=org)
    # January 2026: 14,235 × 3 = 42,705 m³ × 45,67 ₽ = 1 950,34 ₽; hot water stays 1,5.
    january = datetime.date(2026, 1, 1)
    assert (line(acc, water, month=january).volume, line(acc, water, month=january).amount) == (
        D("42.705"),
        D("1950.34"),
    )
    assert line(acc, hot, month=january).coefficient == D("1.5")


def test_it_counts_a_rollover_and_a_replaced_meter():
    org, acc, water = world_with_meter()
    old = f.meter(account=acc, initial="99990", digits=5)
    f.open_month(org, MARCH)
    f.reading(old, MARCH, "5")  # 99990 → 100000 → 5: 15 m³
    billing_run(organization=org)
    assert line(acc, water).volume == D("15")
    period_close(organization=org)
    old.archived_on = datetime.date(2026, 4, 10)
    old.save()
    new = f.meter(account=acc, initial="0", installed_on=datetime.date(2026, 4, 10), replaces=old)
    f.reading(old, APRIL, "8")  # final reading of the old meter: 3 m³
    f.reading(new, APRIL, "4")  # the new one from its initial 0: 4 m³
    billing_run(organization=org)
    assert line(acc, water, month=APRIL).volume == D("7")


def test_it_is_idempotent_on_an_open_period():
    org, acc, water = world_with_meter()
    f.open_month(org, MARCH)
    f.reading(f.meter(account=acc), MARCH, "12")
    billing_run(organization=org)
    first = list(Charge.objects.values_list("account", "service", "volume", "amount"))
    ledger = list(LedgerEntry.objects.values_list("kind", "amount"))
    billing_run(organization=org)
    assert list(Charge.objects.values_list("account", "service", "volume", "amount")) == first
    assert list(LedgerEntry.objects.values_list("kind", "amount")) == ledger


def test_it_reports_what_it_could_not_bill():
    org, acc, water = world_with_meter()
    f.service(org, water.provider, "heat", method="heating", price="2000", unit="gcal")
    f.open_month(org, MARCH)
    run = billing_run(organization=org)
    assert {
        "account": acc.id,
        "service": "heat",
        "problem": "нет норматива отопления",
    } in run.report


def test_a_reading_submitted_during_a_run_is_billed_exactly_once(monkeypatch):
    # Two accounts; account 1's reading arrives while the run is going (after its service).
    org = f.organization()
    prov = f.provider(org)
    bld = f.building(org)
    first = f.account(org, bld, "1", area="50", residents=1)
    second = f.account(org, bld, "2", area="50", residents=1)
    water = f.service(org, prov, "cold", method="meter", resource="cold_water", price="10")
    f.norm(water, Norm.Kind.PER_PERSON, "5")
    m1, m2 = f.meter(account=first), f.meter(account=second)
    f.open_month(org, MARCH)
    f.reading(m2, MARCH, "7")
    late = []

    def progress(done, total):
        if done == 1 and not late:
            late.append(f.reading(m1, MARCH, "8"))

    from kvartplata.billing.services import billing_run_execute, billing_run_start

    run = billing_run_start(organization=org)
    billing_run_execute(run_id=run.id, progress=progress)
    assert late, "the reading went in while the run was going"
    # Whether the run saw the reading depends on where it was: closing is refused either way,
    # until the run is repeated (it might have billed March without the reading).
    with pytest.raises(BillingError, match="заново"):
        period_close(organization=org)
    billing_run(organization=org)
    assert (line(first, water).method, line(first, water).volume) == ("meter", D(8))
    period_close(organization=org)
    f.reading(m1, APRIL, "20")
    billing_run(organization=org)
    # 20 m³ in all: 8 billed in March, 12 in April; nothing twice, nothing lost.
    assert line(first, water, month=APRIL).volume == D(12)
    assert not Recalculation.objects.filter(account=first).exists()


def test_it_bills_area_and_person_lines_set_based_half_up_to_the_kopeck():
    org = f.organization()
    prov = f.provider(org)
    bld = f.building(org)
    acc = f.account(org, bld, "1", area="10.01", residents=3)
    half = f.account(org, bld, "2", area="48.29", residents=0)
    half.share = D("0.5")
    half.save()
    area = f.service(org, prov, "maint", method="area", price="0.5", unit="m2")
    person = f.service(org, prov, "waste", method="person", price="186.505", unit="person")
    f.open_month(org, MARCH)
    billing_run(organization=org)
    # 10,01 m² × 0,50 ₽ = 5,005 → 5,01 ₽ (half-up, not to even).
    assert (line(acc, area).volume, line(acc, area).amount) == (D("10.01"), D("5.01"))
    # 3 persons × 186,505 ₽ = 559,515 → 559,52 ₽.
    assert (line(acc, person).volume, line(acc, person).amount) == (D(3), D("559.52"))
    # Half of 48,29 m² is 24,145 → 24,15 m²; × 0,50 ₽ = 12,075 → 12,08 ₽.
    assert (line(half, area).volume, line(half, area).amount) == (D("24.15"), D("12.08"))
    assert line(acc, area).explanation == "по площади: 10,01 м² × 0,50 ₽ = 5,01\u00a0₽"
    assert LedgerEntry.objects.get(account=acc, kind="charge").amount == D("564.53")


def test_it_bills_and_explains_the_common_needs_of_two_zone_electricity():
    from kvartplata.billing import explain
    from kvartplata.billing.models import Tariff

    org = f.organization(cap_common_house_by_norm=False)
    prov = f.provider(org)
    bld = f.building(org, total_area="1000")
    acc = f.account(org, bld, "1", area="50")
    power = f.service(
        org, prov, "power", method="meter", resource="electricity", unit="kwh", price="1",
        zones=2, has_common_house=True, meter_installable=False,
    )  # fmt: skip
    Tariff.objects.filter(service=power).delete()
    for zone, price in ((1, "6.43"), (2, "2.5")):
        Tariff.objects.create(
            service=power, zone=zone, valid_from=datetime.date(2020, 1, 1), price=D(price)
        )
    f.open_month(org, MARCH)
    f.reading(f.meter(account=acc, resource="electricity", zones=2), MARCH, "100", "50")
    f.reading(f.meter(building=bld, resource="electricity", digits=8), MARCH, "1150")
    billing_run(organization=org)
    # Day 100 kWh × 6,43 ₽ = 643,00 ₽; night 50 kWh × 2,50 ₽ = 125,00 ₽.
    assert line(acc, power, zone=1).amount == D("643.00")
    assert line(acc, power, zone=2).amount == D("125.00")
    # Common needs at the day tariff (no single-rate one): (1150 − 150) × 50 / 1000 = 50 kWh
    # × 6,43 ₽ = 321,50 ₽.
    common = line(acc, power, kind="common_house")
    assert (common.volume, common.tariff, common.amount) == (D(50), D("6.43"), D("321.50"))
    explain.attach([common], acc, common.period)
    assert common.explanation.startswith("по тарифу дневной зоны (T1): ОДН 1\u00a0150,000 кВт·ч")
    assert common.explanation.endswith("50,00 кВт·ч × 6,43 ₽ = 321,50\u00a0₽")
