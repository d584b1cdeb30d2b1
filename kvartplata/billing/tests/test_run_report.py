"""What the run cannot bill is reported per account; the rest is billed, nothing twice."""

import datetime
from decimal import Decimal

import pytest

from kvartplata.billing.models import Charge, MeterState, Norm
from kvartplata.billing.services import billing_run
from kvartplata.billing.tests import factories as f

D = Decimal
MARCH = datetime.date(2026, 3, 1)
pytestmark = pytest.mark.django_db


def world():
    org = f.organization()
    prov = f.provider(org)
    bld = f.building(org)
    water = f.service(
        org, prov, "cold", method="meter", resource="cold_water", price="10",
        meter_installable=False,
    )  # fmt: skip
    return org, bld, water


def test_it_reports_a_flat_without_a_norm_and_bills_the_others():
    org, bld, water = world()
    metered = f.account(org, bld, "1", area="50")
    unmetered = f.account(org, bld, "2", area="50")
    f.open_month(org, MARCH)
    f.reading(f.meter(account=metered), MARCH, "7")
    run = billing_run(organization=org)
    assert run.report == [
        {"account": unmetered.id, "service": "cold", "problem": "нет норматива потребления"}
    ]
    # 7 m³ × 10 ₽ = 70,00 ₽ for the flat with a meter; nothing for the other.
    assert Charge.objects.get(account=metered, kind="individual").amount == D("70.00")
    assert not Charge.objects.filter(account=unmetered).exists()


def test_it_reports_a_reading_it_cannot_use_and_bills_by_the_norm_once():
    org, bld, water = world()
    f.norm(water, Norm.Kind.PER_PERSON, "5")
    acc = f.account(org, bld, "1", area="50", residents=2)
    # A 5-digit counter whose last reading is beyond its capacity: 123 456 → 10 is neither
    # consumption nor a rollover.
    meter = f.meter(account=acc, initial="123456", digits=5)
    f.open_month(org, MARCH)
    f.reading(meter, MARCH, "10")
    run = billing_run(organization=org)
    problem = f"показание прибора № {meter.serial_number} меньше предыдущего: не учтено"
    assert run.report == [{"account": acc.id, "service": "cold", "problem": problem}]
    # Without a usable reading and history: the norm, 2 × 5 = 10 m³ × 10 ₽ = 100,00 ₽, once.
    line = Charge.objects.get(account=acc)
    assert (line.method, line.volume, line.amount) == ("norm", D(10), D("100.00"))
    assert MeterState.objects.get(meter=meter).gap == 1


def test_it_reports_a_meter_whose_zones_do_not_match_the_tariffs():
    org, bld, water = world()
    f.norm(water, Norm.Kind.PER_PERSON, "5")
    acc = f.account(org, bld, "1", area="50")
    meter = f.meter(account=acc, zones=2)
    f.open_month(org, MARCH)
    f.reading(meter, MARCH, "3", "4")
    run = billing_run(organization=org)
    assert run.report == [
        {
            "account": acc.id,
            "service": "cold",
            "problem": "число тарифных зон прибора учёта не совпадает с тарифами услуги",
        }
    ]
    assert not Charge.objects.filter(account=acc).exists()
