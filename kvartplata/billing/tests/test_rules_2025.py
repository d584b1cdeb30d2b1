"""Rules of 2025–2026 that belong to volumes, each with its arithmetic written out."""

import datetime
from decimal import Decimal

import pytest

from kvartplata.billing.calc.volumes import increasing_coefficient
from kvartplata.billing.models import Charge, IncreasingCoefficient, Norm, Tariff
from kvartplata.billing.services import billing_run
from kvartplata.billing.tests import factories as f

D = Decimal
MARCH = datetime.date(2026, 3, 1)
pytestmark = pytest.mark.django_db


def line(acc, service, kind="individual"):
    return Charge.objects.get(account=acc, service=service, kind=kind, period__month=MARCH)


def test_it_keeps_the_coefficients_of_the_rules_with_their_dates():
    rates = list(IncreasingCoefficient.objects.values_list("resource", "valid_from", "value"))
    cold = "cold_water"
    assert increasing_coefficient(rates, cold, datetime.date(2025, 11, 1)) == D("1.5")
    assert increasing_coefficient(rates, cold, datetime.date(2025, 12, 1)) == D("1.5")
    assert increasing_coefficient(rates, cold, datetime.date(2026, 1, 1)) == D("3")
    assert increasing_coefficient(rates, "hot_water", datetime.date(2026, 1, 1)) == D("1.5")
    assert increasing_coefficient(rates, "electricity", datetime.date(2026, 1, 1)) == D("1.5")
    # Where the rules apply none (gas, heat): 1.
    assert increasing_coefficient(rates, "gas", datetime.date(2026, 1, 1)) == D("1")


def test_formula_12_subtracts_the_flats_volumes_without_the_coefficient():
    org = f.organization(cap_common_house_by_norm=False)
    prov = f.provider(org)
    bld = f.building(org, total_area="1000")
    metered = f.account(org, bld, "1", area="50", residents=1)
    unmetered = f.account(org, bld, "2", area="50", residents=2)
    water = f.service(
        org, prov, "cold", method="meter", resource="cold_water", price="40",
        has_common_house=True, meter_installable=True,
    )  # fmt: skip
    f.norm(water, Norm.Kind.PER_PERSON, "5")
    f.open_month(org, MARCH)
    f.reading(f.meter(account=metered), MARCH, "20")
    f.reading(f.meter(building=bld, digits=8), MARCH, "100")
    billing_run(organization=org)
    # The flat without a meter pays 2 × 5 m³ × 3 (cold water, March 2026) = 30 m³ × 40 ₽.
    assert (line(unmetered, water).volume, line(unmetered, water).amount) == (D(30), D(1200))
    # Formula 12 takes its plain 10 m³: 100 − 20 − 10 = 70 m³ common; × 50 / 1000 = 3,5 m³
    # × 40 ₽ = 140,00 ₽ (with the coefficient's 30 m³ it would be 50 m³ → 2,5 m³).
    common = line(metered, water, kind="common_house")
    assert (common.volume, common.amount) == (D("3.5"), D("140.00"))
    assert common.details["individual_volume"] == "30"


def test_an_expired_meter_without_history_is_billed_by_the_norm_with_the_coefficient():
    org = f.organization()
    prov = f.provider(org)
    bld = f.building(org)
    acc = f.account(org, bld, "1", area="50", residents=3)
    water = f.service(
        org, prov, "hot", method="meter", resource="hot_water", price="45.67",
        meter_installable=True,
    )  # fmt: skip
    f.norm(water, Norm.Kind.PER_PERSON, "4.745")
    m = f.meter(account=acc, resource="hot_water", next_verification_on=datetime.date(2026, 2, 1))
    f.open_month(org, MARCH)
    f.reading(m, MARCH, "12")  # a reading of an unverified meter is not used
    billing_run(organization=org)
    # No history to average: 3 × 4,745 = 14,235 × 1,5 = 21,3525 → 21,353 m³ × 45,67 ₽
    # = 975,19151 → 975,19 ₽ (calc.volumes.choose_volume decides the same).
    charge = line(acc, water)
    assert (charge.method, charge.volume, charge.coefficient, charge.amount) == (
        "norm_coefficient",
        D("21.353"),
        D("1.5"),
        D("975.19"),
    )


def test_the_back_office_refuses_a_tariff_that_starts_within_a_month():
    from django.core.exceptions import ValidationError

    org = f.organization()
    water = f.service(org, f.provider(org), "cold", method="meter", price="40")
    tariff = Tariff(service=water, zone=0, valid_from=datetime.date(2026, 7, 15), price=D(45))
    with pytest.raises(ValidationError) as error:
        tariff.full_clean()
    assert "с первого числа месяца" in str(error.value.message_dict["valid_from"])
    tariff.valid_from = datetime.date(2026, 7, 1)
    tariff.valid_to = datetime.date(2026, 12, 30)
    with pytest.raises(ValidationError, match="последнего числа"):
        tariff.full_clean()
    tariff.valid_to = datetime.date(2026, 12, 31)
    tariff.full_clean()


def test_an_accounts_area_on_a_share_rounds_half_up():
    org = f.organization()
    acc = f.account(org, f.building(org), "1", area="48.29")
    acc.share = D("0.5")
    # 48,29 × 0,5 = 24,145 → 24,15 m² (half-up, as billed), not 24,14.
    assert acc.area == D("24.15")


def test_wastewater_takes_the_water_without_the_coefficient():
    org = f.organization()
    prov = f.provider(org)
    acc = f.account(org, f.building(org), "1", area="50", residents=1)
    cold = f.service(org, prov, "cold", method="meter", resource="cold_water", price="40")
    f.norm(cold, Norm.Kind.PER_PERSON, "5.005")
    sewer = f.service(org, prov, "sewer", method="wastewater", price="30.5")
    f.open_month(org, MARCH)
    billing_run(organization=org)
    # Cold water without a meter: 1 × 5,005 × 3 = 15,015 m³ × 40 ₽ = 600,60 ₽.
    assert (line(acc, cold).volume, line(acc, cold).amount) == (D("15.015"), D("600.60"))
    # Wastewater: the water consumed, 5,005 m³ (not 15,015) × 30,50 ₽ = 152,6525 → 152,65 ₽.
    assert (line(acc, sewer).volume, line(acc, sewer).amount) == (D("5.005"), D("152.65"))
    assert line(acc, sewer).method == "norm"
