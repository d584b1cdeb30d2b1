"""Every printed line multiplies out: printed volume × printed tariff = printed amount (half-up)."""

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest

from kvartplata.billing import explain
from kvartplata.billing.calc.volumes import format_billed, norm_unit_label, round_billed
from kvartplata.billing.models import Charge
from kvartplata.demo.world import build
from kvartplata.registry.models import Period, PersonalAccount

TODAY = datetime.date(2026, 11, 25)
KOPECK = Decimal("0.01")
# «… 12,346 м³ × 45,67 ₽ = 563,84 ₽» at the end of every explanation.
TAIL = re.compile(
    r"(?P<volume>[\d\u00a0 ]+(?:,(?P<places>\d+))?) (?P<unit>\S+) × "
    r"(?P<tariff>[\d\u00a0 ]+(?:,\d+)?) ₽ = (?P<amount>[\d\u00a0 ]+,\d\d)\u00a0₽$"
)


def number(text: str) -> Decimal:
    return Decimal(text.replace("\u00a0", "").replace(" ", "").replace(",", "."))


@pytest.mark.django_db
def test_it_prints_every_demo_line_with_its_billing_precision_and_it_multiplies_out():
    build(accounts=40, months=8, today=TODAY)
    lines = 0
    for account in PersonalAccount.objects.select_related("premises"):
        for period in Period.objects.filter(organization=account.organization_id):
            charges = list(
                Charge.objects.filter(account=account, period=period).select_related("service")
            )
            explain.attach(charges, account, period)
            for c in charges:
                places = c.service.places
                # Stored as billed: the volume is already at its unit's precision.
                assert c.volume == round_billed(c.volume, places), c
                printed = number(format_billed(c.volume, places))
                assert c.amount == (printed * c.tariff).quantize(KOPECK, ROUND_HALF_UP), c
                # The charges page: the explanation ends with the same multiplication.
                found = TAIL.search(c.explanation)
                assert found, c.explanation
                assert len(found["places"] or "") == places, c.explanation
                product = number(found["volume"]) * number(found["tariff"])
                assert number(found["amount"]) == product.quantize(KOPECK, ROUND_HALF_UP), (
                    c.explanation
                )
                lines += 1
    methods = set(Charge.objects.values_list("method", flat=True))
    assert {"meter", "average", "norm", "area", "common_house_meter"} <= methods
    assert lines > 1000


def test_it_names_the_units_of_norms():
    assert norm_unit_label("gcal", "per_area") == "Гкал/м²"
    assert norm_unit_label("m3", "per_person") == "м³/чел."
    assert norm_unit_label("kwh", "per_person") == "кВт·ч/чел."
    assert norm_unit_label("m3", "common_area") == "м³/м²"


def test_it_rounds_a_volume_half_up_to_the_units_precision_before_pricing():
    from kvartplata.billing.calc.volumes import billing_places, line_amount

    # The line: 1,3455 Gcal is billed as 1,3455 (4 places) — × 3 432,34 ₽ = 4 618,2135
    # → 4 618,21 ₽; 1,3455 m³ would be billed as 1,346 m³ (half-up), × 45,67 = 61,47182 → 61,47.
    assert billing_places("gcal") == 4
    assert line_amount(Decimal("1.3455"), Decimal("3432.34"), 4) == (
        Decimal("1.3455"),
        Decimal("4618.21"),
    )
    assert line_amount(Decimal("1.3455"), Decimal("45.67"), 3) == (
        Decimal("1.346"),
        Decimal("61.47"),
    )
    # kWh: 0,01 by default, whole when the organization says so (Service.volume_precision = 0).
    assert billing_places("kwh") == 2
    assert billing_places("kwh", 0) == 0
    assert line_amount(Decimal("152.5"), Decimal("6.43"), 0) == (Decimal("153"), Decimal("983.79"))
    assert billing_places("m3") == 3 and billing_places("m2") == 2
