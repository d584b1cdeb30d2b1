"""Small hand-made billing worlds for tests: every number chosen so the arithmetic is checkable."""

import datetime
from decimal import Decimal

from django.utils import timezone

from kvartplata.billing.models import Norm, Service, Tariff
from kvartplata.billing.services import period_open
from kvartplata.meters.models import Meter, Reading
from kvartplata.registry.models import Building, Organization, PersonalAccount, Premises, Provider

D = Decimal
BANK = {
    "inn": "6229012345",
    "kpp": "622901001",
    "bank_name": "ПАО Сбербанк",
    "bic": "046126614",
    "correspondent_account": "30101810500000000614",
    "settlement_account": "40702810253000012345",
}


def organization(**extra) -> Organization:
    fields = {"name": "ООО «УК Тест»", "short_name": "УК Тест", "address": "г. Рязань", **BANK}
    fields.update(extra)
    return Organization.objects.create(**fields)


def provider(org: Organization) -> Provider:
    return Provider.objects.create(
        organization=org, name="Водоканал", short_name="Водоканал", **BANK
    )


def building(org: Organization, *, total_area="2400", common_area="0", **extra) -> Building:
    return Building.objects.create(
        organization=org,
        city="г. Рязань",
        street=extra.pop("street", "ул. Ленина"),
        house=extra.pop("house", "1"),
        total_area=D(total_area),
        residential_area=D(total_area),
        common_area=D(common_area),
        **extra,
    )


def account(org, bld, number, *, area, residents=1, kind="flat") -> PersonalAccount:
    premises = Premises.objects.create(building=bld, number=number, total_area=D(area), kind=kind)
    return PersonalAccount.objects.create(
        organization=org,
        number=f"{int(number):06d}",
        premises=premises,
        holder_last_name="Иванов",
        holder_first_name="Иван",
        residents=residents,
        opened_on=datetime.date(2020, 1, 1),
    )


def service(org, prov, code, *, method, price, resource="", unit="m3", valid_from=None, **extra):
    s = Service.objects.create(
        organization=org,
        provider=prov,
        code=code,
        name=extra.pop("name", code),
        unit=unit,
        method=method,
        resource=resource,
        **extra,
    )
    Tariff.objects.create(
        service=s, zone=0, valid_from=valid_from or datetime.date(2020, 1, 1), price=D(price)
    )
    return s


def norm(svc, kind, value):
    return Norm.objects.create(
        service=svc, kind=kind, valid_from=datetime.date(2017, 1, 1), value=D(value)
    )


def meter(*, account=None, building=None, resource="cold_water", initial="0", **extra) -> Meter:
    return Meter.objects.create(
        scope=Meter.Scope.FLAT if account else Meter.Scope.BUILDING,
        account=account,
        building=building,
        resource=resource,
        serial_number=extra.pop("serial_number", f"SN{Meter.objects.count() + 1}"),
        installed_on=extra.pop("installed_on", datetime.date(2020, 1, 1)),
        verified_on=datetime.date(2020, 1, 1),
        next_verification_on=extra.pop("next_verification_on", datetime.date(2030, 1, 1)),
        initial_value1=D(initial),
        **extra,
    )


def reading(m: Meter, month: datetime.date, value, value2=None) -> Reading:
    return Reading.objects.create(
        meter=m,
        month=month,
        value1=D(value),
        value2=D(value2) if value2 is not None else None,
        source=Reading.Source.STAFF,
        submitted_at=timezone.now(),
    )


def open_month(org, month: datetime.date):
    return period_open(organization=org, month=month)


def area_world(month: datetime.date = datetime.date(2026, 3, 1)):
    """One account of 50 m² and one service billed by area at 30 ₽/m², the month open."""
    org = organization()
    prov = provider(org)
    bld = building(org)
    acc = account(org, bld, "1", area="50")
    svc = service(org, prov, "maint", method="area", price="30", unit="m2")
    open_month(org, month)
    return org, acc, svc
