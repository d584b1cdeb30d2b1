"""A small world for back office tests: two organizations, staff, a resident, one of each."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.utils import timezone

from kvartplata.backoffice.services import staff_group_setup
from kvartplata.billing.models import (
    AccountBalance,
    BillingRun,
    Charge,
    IncreasingCoefficient,
    KeyRate,
    LedgerEntry,
    Moratorium,
    Norm,
    Recalculation,
    Service,
    Tariff,
)
from kvartplata.meters.models import Meter, Reading
from kvartplata.payments.models import Bank, Payment, PaymentFile
from kvartplata.receipts.models import Receipt, ReceiptDelivery
from kvartplata.registry.models import (
    Building,
    Organization,
    Period,
    PersonalAccount,
    Premises,
    Provider,
)
from kvartplata.users.models import AccountLink, User

MONTH = dt.date(2025, 1, 1)
BANK = {
    "inn": "7701234560",
    "kpp": "770101001",
    "bank_name": "ПАО Банк",
    "bic": "044525225",
    "correspondent_account": "30101810400000000225",
    "settlement_account": "40702810200000000001",
}


@dataclass
class OrgWorld:
    """One organization's rows, keyed by model, and its staff login."""

    organization: Organization
    staff: User
    objects: dict = field(default_factory=dict)
    seq: int = 0

    def __getitem__(self, model):
        return self.objects[model]


def build_organization(name: str, number_prefix: str, group) -> OrgWorld:
    org = Organization.objects.create(
        name=f"УК «{name}»", short_name=name, address="г. Город", **BANK
    )
    staff = User.objects.create_user(
        username=f"staff-{number_prefix}",
        password="pass-pass-123",
        is_staff=True,
        organization=org,
        email=f"staff-{number_prefix}@example.com",
    )
    staff.groups.add(group)
    provider = Provider.objects.create(
        organization=org, name=f"Водоканал {name}", short_name="ВК", **BANK
    )
    building = Building.objects.create(
        organization=org,
        city="Город",
        street=f"ул. {name}",
        house="1",
        total_area=Decimal("1000.00"),
        residential_area=Decimal("900.00"),
        common_area=Decimal("100.00"),
    )
    premises = Premises.objects.create(building=building, number="1", total_area=Decimal("50.00"))
    account = PersonalAccount.objects.create(
        organization=org,
        number=f"{number_prefix}0000001",
        premises=premises,
        holder_last_name="Иванов",
        holder_first_name="Иван",
        residents=2,
        opened_on=dt.date(2024, 1, 1),
    )
    service = Service.objects.create(
        organization=org,
        provider=provider,
        code="cold_water",
        name="Холодная вода",
        unit="m3",
        method=Service.Method.METER,
        resource="cold_water",
    )
    tariff = Tariff.objects.create(
        service=service, valid_from=dt.date(2024, 7, 1), price=Decimal("45.50")
    )
    norm = Norm.objects.create(
        service=service,
        kind=Norm.Kind.PER_PERSON,
        valid_from=dt.date(2024, 1, 1),
        value=Decimal("4.5"),
    )
    period = Period.objects.create(organization=org, month=MONTH, due_date=dt.date(2025, 2, 15))
    run = BillingRun.objects.create(organization=org, period=period, status=BillingRun.Status.DONE)
    charge = Charge.objects.create(
        account=account,
        period=period,
        service=service,
        method=Charge.Method.METER,
        volume=Decimal("5"),
        tariff=Decimal("45.50"),
        amount=Decimal("227.50"),
        run=run,
    )
    recalculation = Recalculation.objects.create(
        account=account,
        period=period,
        concerns_month=dt.date(2024, 12, 1),
        service=service,
        amount=Decimal("-10.00"),
        reason="Ошибка в показаниях",
        source=Recalculation.Source.STAFF,
        created_by=staff,
    )
    ledger = LedgerEntry.objects.create(
        account=account,
        period=period,
        concerns_month=MONTH,
        kind=LedgerEntry.Kind.CHARGE,
        amount=Decimal("227.50"),
        entry_date=dt.date(2025, 1, 31),
    )
    balance = AccountBalance.objects.create(
        account=account,
        period=period,
        month=MONTH,
        opening=Decimal("100.00"),
        charges=Decimal("227.50"),
        recalculations=Decimal("-10.00"),
        penalties=Decimal("0.00"),
        payments=Decimal("100.00"),
        closing=Decimal("217.50"),
    )
    meter = Meter.objects.create(
        account=account,
        resource="cold_water",
        serial_number=f"SN-{number_prefix}-1",
        installed_on=dt.date(2020, 1, 1),
        verified_on=dt.date(2020, 1, 1),
        next_verification_on=dt.date(2026, 1, 1),
    )
    Meter.objects.create(
        scope=Meter.Scope.BUILDING,
        building=building,
        resource="cold_water",
        serial_number=f"ODPU-{number_prefix}",
        installed_on=dt.date(2020, 1, 1),
        verified_on=dt.date(2020, 1, 1),
        next_verification_on=dt.date(2021, 1, 1),
    )
    reading = Reading.objects.create(
        meter=meter,
        month=MONTH,
        value1=Decimal("105"),
        source=Reading.Source.CABINET,
        submitted_at=timezone.now(),
    )
    bank = Bank.objects.create(organization=org, name=f"Банк {name}", code="bank")
    payment_file = PaymentFile.objects.create(bank=bank, name="reestr.txt", sha256="0" * 64)
    payment = Payment.objects.create(
        organization=org,
        bank=bank,
        file=payment_file,
        natural_key="op-1",
        account=account,
        account_number=account.number,
        paid_at=timezone.now(),
        amount=Decimal("100.00"),
        period=period,
    )
    receipt = Receipt.objects.create(
        organization=org,
        account=account,
        period=period,
        month=MONTH,
        number=1,
        issued_at=timezone.now(),
        total_due=Decimal("217.50"),
        data={"total": "217.50"},
    )
    resident = User.objects.create_user(
        username=f"resident-{number_prefix}",
        password="pass-pass-123",
        email=f"r{number_prefix}@example.com",
    )
    link = AccountLink.objects.create(user=resident, account=account)
    delivery = ReceiptDelivery.objects.create(receipt=receipt, user=resident, email=resident.email)
    log_entry = LogEntry.objects.log_actions(
        user_id=staff.pk,
        queryset=[account],
        action_flag=CHANGE,
        change_message="",
        single_object=True,
    )
    world = OrgWorld(organization=org, staff=staff)
    for obj in (
        org,
        provider,
        building,
        premises,
        account,
        service,
        tariff,
        norm,
        period,
        run,
        charge,
        recalculation,
        ledger,
        balance,
        meter,
        reading,
        bank,
        payment_file,
        payment,
        receipt,
        delivery,
        link,
        log_entry,
    ):
        world.objects[type(obj)] = obj
    world.objects[User] = resident
    return world


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # Production settings redirect to HTTPS; the test client speaks plain HTTP.
    settings.SECURE_SSL_REDIRECT = False
    # The world has several logins; a slow password hash would dominate the run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    a: OrgWorld
    b: OrgWorld
    resident: User
    superuser: User
    objects: dict


@pytest.fixture
def world(db) -> World:
    group = staff_group_setup()
    a = build_organization("Ромашка", "100", group)
    b = build_organization("Лютик", "200", group)
    key_rate = KeyRate.objects.create(valid_from=dt.date(2024, 1, 1), rate=Decimal("16.000"))
    moratorium = Moratorium.objects.create(start=dt.date(2022, 3, 31), end=dt.date(2022, 10, 1))
    coefficient, _ = IncreasingCoefficient.objects.get_or_create(
        resource="cold_water", valid_from=dt.date(2017, 1, 1), defaults={"value": Decimal("1.50")}
    )
    superuser = User.objects.create_superuser(
        username="root", password="pass-pass-123", email="root@example.com"
    )
    objects = {
        **a.objects,
        KeyRate: key_rate,
        Moratorium: moratorium,
        IncreasingCoefficient: coefficient,
        type(group): group,
    }
    return World(a=a, b=b, resident=a[User], superuser=superuser, objects=objects)


def grow_accounts(org_world: OrgWorld, count: int) -> None:
    """Add `count` accounts with a row of every account-bound kind (for query-count tests)."""
    base = org_world[PersonalAccount]
    period, service, bank = org_world[Period], org_world[Service], org_world[Bank]
    receipt_number = Receipt.objects.filter(organization=org_world.organization).count() + 1000
    for _ in range(count):
        org_world.seq += 1
        n = org_world.seq
        premises = Premises.objects.create(
            building=base.premises.building, number=f"g{n}", total_area=Decimal("40.00")
        )
        account = PersonalAccount.objects.create(
            organization=org_world.organization,
            number=f"{base.number}{n:04d}",
            premises=premises,
            holder_last_name="Петров",
            holder_first_name="Пётр",
            opened_on=dt.date(2024, 1, 1),
        )
        Charge.objects.create(
            account=account,
            period=period,
            service=service,
            method=Charge.Method.AREA,
            volume=1,
            tariff=1,
            amount=1,
        )
        Recalculation.objects.create(
            account=account,
            period=period,
            concerns_month=MONTH,
            amount=1,
            reason="r",
            source=Recalculation.Source.STAFF,
            created_by=org_world.staff,
        )
        LedgerEntry.objects.create(
            account=account, period=period, kind="charge", amount=1, entry_date=MONTH
        )
        AccountBalance.objects.create(
            account=account,
            period=period,
            month=MONTH,
            opening=0,
            charges=1,
            recalculations=0,
            penalties=0,
            payments=0,
            closing=1,
        )
        meter = Meter.objects.create(
            account=account,
            resource="cold_water",
            serial_number=f"G-{n}",
            installed_on=MONTH,
            verified_on=MONTH,
            next_verification_on=MONTH,
        )
        Reading.objects.create(
            meter=meter, month=MONTH, value1=1, source="cabinet", submitted_at=timezone.now()
        )
        Payment.objects.create(
            organization=org_world.organization,
            bank=bank,
            natural_key=f"g-{n}",
            account=account if n % 2 else None,
            account_number=account.number,
            paid_at=timezone.now(),
            amount=1,
            status="matched" if n % 2 else "unmatched",
        )
        receipt = Receipt.objects.create(
            organization=org_world.organization,
            account=account,
            period=period,
            month=MONTH,
            number=receipt_number + n,
            issued_at=timezone.now(),
            total_due=1,
            data={},
        )
        user = User.objects.create_user(username=f"grow-{base.number}-{n}", password=None)
        AccountLink.objects.create(user=user, account=account)
        ReceiptDelivery.objects.create(receipt=receipt, user=user, email=f"g{n}@example.com")
        LogEntry.objects.log_actions(
            user_id=org_world.staff.pk,
            queryset=[account],
            action_flag=CHANGE,
            change_message="",
            single_object=True,
        )
