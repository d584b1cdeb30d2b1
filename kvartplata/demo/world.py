"""The demo world: one organization, its buildings, flats and 24 months of history, deterministic.

The history is produced by the real cycle — readings, payments, billing run, close — month by
month, so every number a resident sees in the demo came from the billing engine.
"""

import datetime
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from kvartplata.backoffice.closing import period_close_with_receipts
from kvartplata.backoffice.services import staff_group_setup
from kvartplata.billing import ledger, services
from kvartplata.billing.models import AccountBalance, Norm, Service, Tariff, Unit
from kvartplata.lib.db import bulk_insert
from kvartplata.lib.periods import add_months, month_start
from kvartplata.meters.models import READING_COLUMNS, Meter
from kvartplata.payments.models import Bank
from kvartplata.registry.models import (
    Building,
    Organization,
    Period,
    PersonalAccount,
    Premises,
    Provider,
)
from kvartplata.users.models import AccountLink

D = Decimal
MSK = datetime.timezone(datetime.timedelta(hours=3))

LAST_NAMES = [
    ("Иванов", "Иванова"),
    ("Петров", "Петрова"),
    ("Смирнов", "Смирнова"),
    ("Кузнецов", "Кузнецова"),
    ("Попов", "Попова"),
    ("Соколов", "Соколова"),
    ("Лебедев", "Лебедева"),
    ("Козлов", "Козлова"),
    ("Новиков", "Новикова"),
    ("Морозов", "Морозова"),
    ("Волков", "Волкова"),
    ("Алексеев", "Алексеева"),
    ("Фёдоров", "Фёдорова"),
    ("Михайлов", "Михайлова"),
    ("Егоров", "Егорова"),
    ("Орлов", "Орлова"),
]
FIRST_NAMES_M = ["Иван", "Сергей", "Андрей", "Алексей", "Дмитрий", "Николай", "Павел", "Михаил"]
FIRST_NAMES_F = ["Анна", "Елена", "Ольга", "Наталья", "Мария", "Татьяна", "Ирина", "Светлана"]
PATRONYMICS = [
    ("Иванович", "Ивановна"),
    ("Сергеевич", "Сергеевна"),
    ("Петрович", "Петровна"),
    ("Андреевич", "Андреевна"),
    ("Николаевич", "Николаевна"),
    ("Александрович", "Александровна"),
]
BUILDINGS = [
    ("ул. Ленина", "10", True, True),
    ("ул. Садовая", "5", True, False),
    ("пр. Мира", "27", False, False),
]

# (code, name, provider, unit, method, resource, zones, common-house, sort, base tariffs by zone)
SERVICES = [
    (
        "maintenance",
        "Содержание жилого помещения",
        "org",
        Unit.M2,
        "area",
        "",
        1,
        False,
        10,
        {0: D("28.50")},
    ),
    (
        "cold_water",
        "Холодное водоснабжение",
        "water",
        Unit.M3,
        "meter",
        "cold_water",
        1,
        True,
        20,
        {0: D("45.67")},
    ),
    (
        "hot_water",
        "Горячее водоснабжение",
        "water",
        Unit.M3,
        "meter",
        "hot_water",
        1,
        True,
        30,
        {0: D("215.40")},
    ),
    (
        "wastewater",
        "Водоотведение",
        "water",
        Unit.M3,
        "wastewater",
        "",
        1,
        False,
        40,
        {0: D("38.20")},
    ),
    (
        "electricity",
        "Электроснабжение",
        "power",
        Unit.KWH,
        "meter",
        "electricity",
        2,
        True,
        50,
        {0: D("5.72"), 1: D("6.45"), 2: D("2.98")},
    ),
    ("heating", "Отопление", "org", Unit.GCAL, "heating", "", 1, False, 60, {0: D("2650.40")}),
    ("waste", "Обращение с ТКО", "org", Unit.PERSON, "person", "", 1, False, 70, {0: D("186.50")}),
    (
        "capital_repair",
        "Взнос на капитальный ремонт",
        "org",
        Unit.M2,
        "area",
        "",
        1,
        False,
        80,
        {0: D("11.80")},
    ),
]
NORMS = {
    "cold_water": [(Norm.Kind.PER_PERSON, D("4.745")), (Norm.Kind.COMMON_AREA, D("0.0283"))],
    "hot_water": [(Norm.Kind.PER_PERSON, D("3.5")), (Norm.Kind.COMMON_AREA, D("0.0283"))],
    "electricity": [(Norm.Kind.PER_PERSON, D("99")), (Norm.Kind.COMMON_AREA, D("0.95"))],
    "heating": [(Norm.Kind.PER_AREA, D("0.0178"))],
}


@dataclass
class FlatMeter:
    id: int
    account_id: int
    resource: str
    zones: int
    value: list[Decimal]
    rate: list[Decimal]
    building_id: int


@dataclass
class World:
    organization: Organization
    accounts: list[int] = field(default_factory=list)
    resident_account: PersonalAccount | None = None
    spare_account: PersonalAccount | None = None


def build(
    *,
    accounts: int = 300,
    months: int = 24,
    today: datetime.date | None = None,
    seed: int = 2026,
    log: Callable[[str], None] = lambda _s: None,
) -> World:
    """Build the world and its history up to the current month (which stays open)."""
    today = today or timezone.localdate()
    rng = random.Random(seed)
    current = month_start(today)
    first = add_months(current, -months)
    with transaction.atomic():
        world = _registry(rng, accounts, first)
        meters = _meters(rng, world, first)
        log(f"реестр: {len(world.accounts)} лицевых счетов, {len(meters)} приборов учёта")
    history = _History(rng, world, meters)
    month = first
    services.period_open(organization=world.organization, month=first)
    while month < current:
        with transaction.atomic():
            history.payments(month)
            history.readings(month)
            services.billing_run(organization=world.organization)
            # Receipts of every month for the small world; the big one keeps the last three.
            keep = len(world.accounts) <= 5000 or month >= add_months(current, -3)
            # Closed on the 1st of the next month, as an operator would: receipts bear that date.
            closed = datetime.datetime.combine(add_months(month, 1), datetime.time(9), MSK)
            period_close_with_receipts(
                organization=world.organization,
                issue_receipts=keep,
                now=min(closed, timezone.now()),
            )
        log(f"{month:%m.%Y}: начислено и закрыто")
        month = add_months(month, 1)
    with transaction.atomic():
        # The open month: payments so far and readings of the residents who already sent them.
        history.payments(current, until_day=min(today.day, 28))
        if today.day >= world.organization.readings_day_from:
            history.readings(current, share=0.6)
    _logins(world)
    return world


def _registry(rng: random.Random, count: int, first: datetime.date) -> World:
    org = Organization.objects.create(
        name="Общество с ограниченной ответственностью «Управляющая компания «Уютный дом»",
        short_name="ООО «УК «Уютный дом»",
        inn="6229012342",
        kpp="622901001",
        ogrn="1026200000123",
        address="390000, г. Рязань, ул. Почтовая, д. 61, офис 12",
        phones="+7 (4912) 55-01-23, аварийная: +7 (4912) 55-09-09",
        email="info@uyutny-dom.example",
        website="https://uyutny-dom.example",
        hours="пн–чт 9:00–18:00, пт 9:00–17:00, обед 13:00–14:00",
        bank_name="ПАО «Сбербанк», Рязанское отделение",
        bic="046126614",
        correspondent_account="30101810500000000614",
        settlement_account="40702810853000012345",
    )
    providers = {
        "org": Provider.objects.create(
            organization=org,
            name=org.name,
            short_name=org.short_name,
            address=org.address,
            phones=org.phones,
            inn=org.inn,
            kpp=org.kpp,
            bank_name=org.bank_name,
            bic=org.bic,
            correspondent_account=org.correspondent_account,
            settlement_account=org.settlement_account,
        ),
        "water": Provider.objects.create(
            organization=org,
            name="Муниципальное предприятие «Водоканал города Рязани»",
            short_name="МП «Водоканал г. Рязани»",
            address="390000, г. Рязань, ул. Связи, д. 9",
            phones="+7 (4912) 24-00-00",
            inn="6227000292",
            kpp="622701001",
            bank_name="АО «Банк Рязань»",
            bic="046126700",
            correspondent_account="30101810100000000700",
            settlement_account="40602810400000000123",
        ),
        "power": Provider.objects.create(
            organization=org,
            name="Публичное акционерное общество «Рязанская энергосбытовая компания»",
            short_name="ПАО «РЭСК»",
            address="390000, г. Рязань, ул. Радищева, д. 61",
            phones="+7 (4912) 99-00-00",
            inn="6229049014",
            kpp="623401001",
            bank_name="Рязанское отделение № 8606 ПАО Сбербанк",
            bic="046126614",
            correspondent_account="30101810500000000614",
            settlement_account="40702810253000098765",
        ),
    }
    for code, name, provider, unit, method, resource, zones, common, sort, tariffs in SERVICES:
        service = Service.objects.create(
            organization=org,
            provider=providers[provider],
            code=code,
            name=name,
            unit=unit,
            method=method,
            resource=resource,
            zones=zones,
            has_common_house=common,
            sort_order=sort,
        )
        _tariffs(service, tariffs, first)
        for kind, value in NORMS.get(code, []):
            Norm.objects.create(
                service=service, kind=kind, valid_from=datetime.date(2017, 1, 1), value=value
            )
    Bank.objects.create(
        organization=org,
        name="ПАО Сбербанк",
        code="sber",
        columns={
            "paid_at": 0,
            "operation_id": 1,
            "account": 2,
            "payer": 3,
            "address": 4,
            "month": 5,
            "amount": 6,
            "commission": 7,
        },
    )
    # Flats per building: the big world spreads its accounts over more buildings.
    n_buildings = max(3, count // 300)
    per_building = [
        count // n_buildings + (1 if i < count % n_buildings else 0) for i in range(n_buildings)
    ]
    world = World(organization=org)
    number = 100000
    account_objs = []
    for b_index, flats in enumerate(per_building):
        street, house, cold_meter, power_meter = BUILDINGS[b_index % len(BUILDINGS)]
        if b_index >= len(BUILDINGS):
            house = f"{int(house) + b_index}"
        areas = [D(rng.randrange(3000, 9500)) / 100 for _ in range(flats)]
        residential = sum(areas, D(0))
        shop = D("120.00") if b_index == 0 else D(0)
        building = Building.objects.create(
            organization=org,
            city="г. Рязань",
            street=street,
            house=house,
            floors=9 if flats > 60 else 5,
            built_year=1975 + b_index % 40,
            total_area=residential + shop,
            residential_area=residential,
            non_residential_area=shop,
            common_area=(residential * D("0.18")).quantize(D("0.01")),
        )
        building._cold_meter, building._power_meter = cold_meter, power_meter
        premises = Premises.objects.bulk_create(
            [
                Premises(
                    building=building,
                    number=str(i + 1),
                    total_area=area,
                    living_area=(area * D("0.62")).quantize(D("0.01")),
                    rooms=1 + int(area // 30),
                    floor=1 + i // 4,
                )
                for i, area in enumerate(areas)
            ],
            batch_size=2000,
        )
        for p in premises:
            number += 1
            female = rng.random() < 0.5
            last = rng.choice(LAST_NAMES)[1 if female else 0]
            first_name = rng.choice(FIRST_NAMES_F if female else FIRST_NAMES_M)
            middle = rng.choice(PATRONYMICS)[1 if female else 0]
            account_objs.append(
                PersonalAccount(
                    organization=org,
                    number=f"{number:010d}",
                    premises=p,
                    holder_last_name=last,
                    holder_first_name=first_name,
                    holder_middle_name=middle,
                    residents=rng.choice([0, 1, 1, 2, 2, 2, 3, 3, 4, 5]),
                    opened_on=datetime.date(2015, 1, 1),
                    link_code=_code(rng),
                )
            )
        world._buildings = getattr(world, "_buildings", []) + [building]
    created = PersonalAccount.objects.bulk_create(account_objs, batch_size=2000)
    world.accounts = [a.id for a in created]
    world.resident_account = created[6]
    world.spare_account = created[17]
    return world


def _code(rng: random.Random) -> str:
    alphabet = "ABCEHKMPTX23456789"
    return "".join(rng.choice(alphabet) for _ in range(8))


def _tariffs(service: Service, base: dict[int, Decimal], first: datetime.date) -> None:
    """Tariffs that rise on 1 July each year, as regulated tariffs in Russia do."""
    start = datetime.date(first.year - 1, 7, 1)
    year = 0
    day = start
    while day <= add_months(first, 36):
        factor = D("1.09") ** year
        for zone, price in base.items():
            Tariff.objects.create(
                service=service,
                zone=zone,
                valid_from=day,
                price=(price * factor).quantize(D("0.01")),
                basis=f"Постановление ГУ РЭК Рязанской области на {day.year} год",
            )
        year += 1
        day = datetime.date(day.year + 1, 7, 1)


def _meters(rng: random.Random, world: World, first: datetime.date) -> list[FlatMeter]:
    accounts = (
        PersonalAccount.objects.filter(id__in=world.accounts)
        .select_related("premises")
        .order_by("id")
    )
    installed = datetime.date(2021, 3, 1)
    objs, plans = [], []
    for account in accounts:
        residents = max(account.residents, 1)
        no_water_meter = rng.random() < 0.06
        expires = rng.random() < 0.04
        for resource, zones, rate in (
            ("cold_water", 1, [D(rng.randrange(220, 380)) / 100 * residents]),
            ("hot_water", 1, [D(rng.randrange(140, 260)) / 100 * residents]),
            (
                "electricity",
                2,
                [D(rng.randrange(60, 110)) + 25 * residents, D(rng.randrange(30, 60))],
            ),
        ):
            if no_water_meter and resource != "electricity":
                continue
            next_check = installed.replace(year=installed.year + 6)
            if expires and resource != "electricity":
                next_check = add_months(first, 8)
            start = [D(rng.randrange(0, 40000)) / 100, D(rng.randrange(0, 20000)) / 100][:zones]
            objs.append(
                Meter(
                    scope=Meter.Scope.FLAT,
                    account=account,
                    resource=resource,
                    serial_number=f"{resource[:2].upper()}{account.id:07d}",
                    model={
                        "cold_water": "ВСХ-15",
                        "hot_water": "ВСГ-15",
                        "electricity": "Меркурий 201.8",
                    }[resource],
                    place={"electricity": "лестничная площадка"}.get(resource, "санузел"),
                    zones=zones,
                    digits=5 if resource != "electricity" else 6,
                    precision=3 if resource != "electricity" else 1,
                    installed_on=installed,
                    verified_on=installed,
                    next_verification_on=next_check,
                    initial_value1=start[0],
                    initial_value2=start[1] if zones > 1 else None,
                )
            )
            plans.append((account.id, account.premises.building_id, resource, zones, start, rate))
    created = Meter.objects.bulk_create(objs, batch_size=2000)
    for building in world._buildings:
        for resource, present in (
            ("cold_water", building._cold_meter),
            ("electricity", building._power_meter),
        ):
            if present:
                Meter.objects.create(
                    scope=Meter.Scope.BUILDING,
                    building=building,
                    resource=resource,
                    serial_number=f"ОДПУ-{resource[:2].upper()}-{building.id:04d}",
                    zones=1,
                    digits=8,
                    precision=3,
                    installed_on=datetime.date(2019, 1, 1),
                    verified_on=datetime.date(2023, 1, 1),
                    next_verification_on=datetime.date(2029, 1, 1),
                )
    return [
        FlatMeter(m.id, account_id, resource, zones, list(start), rate, building_id)
        for m, (account_id, building_id, resource, zones, start, rate) in zip(
            created, plans, strict=True
        )
    ]


class _History:
    """Readings and payments of residents, month by month."""

    def __init__(self, rng: random.Random, world: World, meters: list[FlatMeter]):
        self.rng = rng
        self.world = world
        self.meters = meters
        self.org = world.organization
        self.bank = Bank.objects.get(organization=self.org, code="sber")
        # Some residents never send readings, some pay late or not at all: the engine must cope.
        self.silent = {a for a in world.accounts if rng.random() < 0.03}
        self.late_payers = {a for a in world.accounts if rng.random() < 0.08}
        self.debtors = {a for a in world.accounts if rng.random() < 0.03}
        self.building_meters = {
            (m.building_id, m.resource): [m.id, m.initial_value1]
            for m in Meter.objects.filter(
                scope=Meter.Scope.BUILDING, building__organization=self.org
            )
        }
        self.payment_seq = 0
        self.keep_silent = {world.resident_account.id: False} if world.resident_account else {}

    def readings(self, month: datetime.date, share: float = 1.0) -> None:
        rng = self.rng
        now = datetime.datetime.combine(month.replace(day=20), datetime.time(19, 30), MSK)
        rows = []
        building_use: dict[tuple[int, str], Decimal] = defaultdict(lambda: D(0))
        winter = month.month in (11, 12, 1, 2, 3)
        for m in self.meters:
            for z in range(m.zones):
                factor = (
                    D(rng.randrange(80, 121))
                    / 100
                    * (D("1.15") if winter and m.resource == "electricity" else 1)
                )
                used = (m.rate[z] * factor).quantize(
                    D("0.001") if m.resource != "electricity" else D("0.1")
                )
                m.value[z] += used
                building_use[(m.building_id, m.resource)] += used
            silent = m.account_id in self.silent and m.account_id != self.world.resident_account.id
            if silent or rng.random() > 0.93 * share:
                continue
            values = m.value + [None] * (3 - m.zones)
            rows.append(
                (
                    m.id,
                    month,
                    values[0],
                    values[1],
                    values[2],
                    "regular",
                    "cabinet",
                    True,
                    False,
                    now,
                    None,
                )
            )
        if share >= 1.0:
            for (building_id, resource), state in self.building_meters.items():
                # Losses, and flats without meters, make the building use more than the flats send.
                losses = (
                    D(
                        rng.randrange(104, 113)
                        if resource == "electricity"
                        else rng.randrange(112, 125)
                    )
                    / 100
                )
                state[1] = (state[1] + building_use[(building_id, resource)] * losses).quantize(
                    D("0.001")
                )
                rows.append(
                    (
                        state[0],
                        month,
                        state[1],
                        None,
                        None,
                        "regular",
                        "building",
                        True,
                        False,
                        now,
                        None,
                    )
                )
        bulk_insert(
            "meters_reading",
            READING_COLUMNS,
            rows,
        )

    def payments(self, month: datetime.date, until_day: int = 28) -> None:
        """Residents pay the previous month's total during this month."""
        rng = self.rng
        period = Period.objects.get(organization=self.org, month=month)
        previous = Period.objects.filter(organization=self.org, month=add_months(month, -1)).first()
        if previous is None:
            return
        due = dict(
            AccountBalance.objects.filter(period=previous).values_list("account_id", "closing")
        )
        rows, posts = [], []
        for account_id in self.world.accounts:
            amount = due.get(account_id, D(0))
            if amount <= 0 or account_id in self.debtors and rng.random() < 0.85:
                continue
            day = rng.randrange(3, 26)
            if account_id in self.late_payers:
                if rng.random() < 0.5:
                    continue  # pays next month, with the penalty that follows
                day = rng.randrange(20, 29)
            if day > until_day:
                continue
            if rng.random() < 0.07:
                amount = (amount * D(rng.randrange(30, 90)) / 100).quantize(D("0.01"))
            elif rng.random() < 0.04:
                amount += D(rng.randrange(1, 50) * 100)
            self.payment_seq += 1
            paid_at = datetime.datetime.combine(month.replace(day=day), datetime.time(12, 0), MSK)
            rows.append(
                (
                    self.org.id,
                    self.bank.id,
                    f"demo-{self.payment_seq:09d}",
                    account_id,
                    "",
                    "",
                    "",
                    paid_at,
                    amount,
                    D(0),
                    None,
                    "bank",
                    "matched",
                    period.id,
                )
            )
            posts.append(
                {
                    "account_id": account_id,
                    "amount": amount,
                    "paid_on": paid_at.date(),
                    "for_month": None,
                }
            )
        bulk_insert(
            "payments_payment",
            [
                "organization_id",
                "bank_id",
                "natural_key",
                "account_id",
                "account_number",
                "payer_name",
                "address",
                "paid_at",
                "amount",
                "commission",
                "for_month",
                "channel",
                "status",
                "period_id",
            ],
            rows,
        )
        ids = dict(_payment_ids(self.org, [r[2] for r in rows]))
        for post, row in zip(posts, rows, strict=True):
            post["id"] = ids[row[2]]
        ledger.post_payments(period, posts)
        if period.state == Period.State.BILLED:
            ledger.refresh_balances(period, [p["account_id"] for p in posts])


def _payment_ids(org, keys):
    from kvartplata.payments.models import Payment

    found = []
    for start in range(0, len(keys), 5000):
        found.extend(
            Payment.objects.filter(
                organization=org, natural_key__in=keys[start : start + 5000]
            ).values_list("natural_key", "id")
        )
    return found


def _logins(world: World) -> None:
    User = get_user_model()
    staff, created = User.objects.get_or_create(
        username="operator",
        defaults={
            "email": "operator@uyutny-dom.example",
            "first_name": "Ольга",
            "last_name": "Операторова",
            "is_staff": True,
            "organization": world.organization,
        },
    )
    staff.set_password(settings.DEMO_STAFF_PASSWORD)
    staff.save()
    staff_group_setup(usernames=["operator"])
    resident, _ = User.objects.get_or_create(
        username="demo",
        defaults={
            "email": "demo@example.com",
            "first_name": "Анна",
            "last_name": world.resident_account.holder_last_name,
            "consent_version": "1.0",
            "consent_at": timezone.now(),
        },
    )
    resident.set_password(settings.DEMO_RESIDENT_PASSWORD)
    resident.save()
    AccountLink.objects.get_or_create(user=resident, account=world.resident_account)
    _mark_verified(resident)


def _mark_verified(user) -> None:
    """The demo login may sign in at once: its e-mail counts as confirmed (allauth)."""
    if not apps.is_installed("allauth.account"):
        return
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
