"""A small world for the meters tests: an organization, a flat with three meters, two residents."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.utils import timezone

from kvartplata.meters.models import Meter, Reading
from kvartplata.registry.models import (
    Building,
    Organization,
    Period,
    PersonalAccount,
    Premises,
    Provider,
)
from kvartplata.users.models import AccountLink, User

MSK = ZoneInfo("Europe/Moscow")
PASSWORD = "correct-horse-battery-staple"
# Inside the default window (15–25) of November 2026; October is closed, November open.
IN_WINDOW = datetime(2026, 11, 20, 12, 0, tzinfo=MSK)
BANK = {
    "inn": "7701234567",
    "kpp": "770101001",
    "bank_name": "ПАО Сбербанк",
    "bic": "044525225",
    "correspondent_account": "30101810400000000225",
    "settlement_account": "40702810938000012345",
}


@dataclass
class World:
    organization: Organization
    building: Building
    account: PersonalAccount
    other_account: PersonalAccount
    resident: User
    outsider: User
    staff: User
    cold: Meter
    hot: Meter
    power: Meter
    building_meter: Meter
    other_meter: Meter


def make_meter(**kwargs) -> Meter:
    defaults = {
        "scope": Meter.Scope.FLAT,
        "digits": 5,
        "precision": 3,
        "installed_on": date(2024, 1, 10),
        "verified_on": date(2024, 1, 10),
        "next_verification_on": date(2030, 1, 10),
    }
    return Meter.objects.create(**(defaults | kwargs))


def add_reading(meter: Meter, month: date, *values, source=Reading.Source.CABINET, **kw) -> Reading:
    padded = [Decimal(str(v)) for v in values] + [None] * (3 - len(values))
    return Reading.objects.create(
        meter=meter,
        month=month,
        value1=padded[0],
        value2=padded[1],
        value3=padded[2],
        source=source,
        submitted_at=datetime(month.year, month.month, 20, 10, 0, tzinfo=MSK),
        **kw,
    )


def make_account(organization, building, number: str, flat: str) -> PersonalAccount:
    premises = Premises.objects.create(building=building, number=flat, total_area=Decimal("54.30"))
    return PersonalAccount.objects.create(
        organization=organization,
        number=number,
        premises=premises,
        holder_last_name="Иванов",
        holder_first_name="Иван",
        opened_on=date(2020, 1, 1),
    )


@pytest.fixture
def world(db) -> World:
    organization = Organization.objects.create(
        name="ООО «УК Тестовая»",
        short_name="УК Тестовая",
        address="г. Тверь, ул. Советская, 1",
        **BANK,
    )
    Provider.objects.create(organization=organization, name="Водоканал", short_name="ВК", **BANK)
    building = Building.objects.create(
        organization=organization,
        city="Тверь",
        street="ул. Советская",
        house="10",
        total_area=Decimal("2400.00"),
        residential_area=Decimal("2000.00"),
    )
    account = make_account(organization, building, "1000015", "15")
    other_account = make_account(organization, building, "1000016", "16")
    resident = User.objects.create_user(
        "resident", email="resident@example.com", password=PASSWORD, first_name="Иван"
    )
    outsider = User.objects.create_user("outsider", email="outsider@example.com", password=PASSWORD)
    staff = User.objects.create_user(
        "operator",
        email="op@example.com",
        password=PASSWORD,
        is_staff=True,
        organization=organization,
    )
    # The operator's part of its role (the «Операторы» group of the back office): the readings.
    staff.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="meters",
            codename__in=["view_meter", "change_meter", "view_reading", "add_reading"],
        )
    )
    AccountLink.objects.create(user=resident, account=account)
    AccountLink.objects.create(user=outsider, account=other_account)

    cold = make_meter(account=account, resource="cold_water", serial_number="CW-1", place="Кухня")
    hot = make_meter(account=account, resource="hot_water", serial_number="HW-1", place="Кухня")
    power = make_meter(
        account=account,
        resource="electricity",
        serial_number="EL-1",
        zones=2,
        digits=6,
        precision=1,
        initial_value2=Decimal(0),
    )
    building_meter = make_meter(
        scope=Meter.Scope.BUILDING,
        building=building,
        resource="cold_water",
        serial_number="ODPU-1",
        digits=8,
    )
    other_meter = make_meter(account=other_account, resource="cold_water", serial_number="CW-2")

    # Four months of history: 10 m³ of cold and 5 m³ of hot water a month, 100/50 kWh.
    for i, month in enumerate(
        [date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)]
    ):
        add_reading(cold, month, 100 + 10 * i)
        add_reading(hot, month, 50 + 5 * i)
        add_reading(power, month, 1000 + 100 * i, 500 + 50 * i)
        add_reading(other_meter, month, 10 + i)
        add_reading(building_meter, month, 10000 + 1000 * i, source=Reading.Source.BUILDING)

    Period.objects.create(
        organization=organization,
        month=date(2026, 10, 1),
        state=Period.State.CLOSED,
        due_date=date(2026, 11, 15),
        closed_at=timezone.now(),
    )
    Period.objects.create(
        organization=organization, month=date(2026, 11, 1), due_date=date(2026, 12, 15)
    )
    return World(
        organization=organization,
        building=building,
        account=account,
        other_account=other_account,
        resident=resident,
        outsider=outsider,
        staff=staff,
        cold=cold,
        hot=hot,
        power=power,
        building_meter=building_meter,
        other_meter=other_meter,
    )


@pytest.fixture
def in_window():
    with time_machine.travel(IN_WINDOW, tick=False):
        yield IN_WINDOW.date()


@pytest.fixture
def resident_client(client, world):
    client.force_login(world.resident)
    return client


@pytest.fixture
def staff_client(client, world):
    client.force_login(world.staff)
    return client
