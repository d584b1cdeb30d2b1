"""A generated registry in the exchange format: for the demo (`manage.py demo --via-import`),
the benchmark (bench/registry.py) and the tests. Deterministic for a seed.
"""

import datetime
import random
from decimal import Decimal

from kvartplata.backoffice.exchange.fileformat import SHEETS
from kvartplata.lib.periods import add_months

BIC = "044525225"
CORRESPONDENT = "30101810400000000225"
# Real, check-digit-valid ИНН of large companies, used only as sample payees.
PROVIDER_INNS = ("7707083893", "7702070139", "7736207543", "7728168971")
PROVIDER_NAMES = ("ООО «УК Дом»", "ПАО «Водоканал»", "АО «Теплосеть»", "АО «Энергосбыт»")
STREETS = ("ул. Ленина", "ул. Гагарина", "пр. Мира", "ул. Садовая", "ул. Победы")
LAST_NAMES = ("Иванов", "Петров", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев")
FIRST_NAMES = ("Иван", "Пётр", "Сергей", "Анна", "Мария", "Ольга", "Николай")
RESOURCES = ("cold_water", "hot_water", "electricity")


def settlement_account(serial: int, bic: str = BIC) -> str:
    """A 20-digit settlement account whose control key (9th digit) agrees with the БИК."""
    digits = f"40702810{0}{serial:011d}"
    prefix = bic[-3:]
    weights = [7, 1, 3] * 8
    total = sum(int(d) * w for d, w in zip(prefix + digits, weights, strict=False))
    key = (-total * 7) % 10  # the key's weight is 3, and 3 × 7 ≡ 1 (mod 10)
    return digits[:8] + str(key) + digits[9:]


def registry_workbook(
    *,
    accounts: int = 40,
    switch_month: datetime.date,
    seed: int = 1,
    flats_per_building: int = 60,
    debt_months: int = 3,
    debtors_every: int = 3,
) -> dict[str, tuple[tuple[str, ...], list]]:
    """Tables of a registry: `accounts` flats, 3 meters each, opening debts for one account in
    `debtors_every` (to two providers over `debt_months` months), an advance for some others."""
    rnd = random.Random(seed)
    last_month = add_months(switch_month, -1)
    providers = [
        [
            inn,
            "772801001",
            name,
            name,
            "ПАО Сбербанк",
            BIC,
            CORRESPONDENT,
            settlement_account(i + 1),
            "г. Москва",
            "",
        ]
        for i, (inn, name) in enumerate(zip(PROVIDER_INNS, PROVIDER_NAMES, strict=True))
    ]
    buildings, premises, account_rows, meters, building_meters, balances = [], [], [], [], [], []
    n_buildings = max(1, -(-accounts // flats_per_building))
    for b in range(n_buildings):
        address = ["Рязань", STREETS[b % len(STREETS)], str(b // len(STREETS) + 1)]
        flats = min(flats_per_building, accounts - b * flats_per_building)
        areas = [Decimal(rnd.randint(3000, 9000)) / 100 for _ in range(flats)]
        total = sum(areas, Decimal(0))
        buildings.append(
            [*address, "", "full", "9", str(1970 + b % 40), str(total), str(total), "0", "250.00"]
        )
        building_meters.append(
            [
                f"ОД-{b + 1:05d}",
                *address,
                "heat",
                "1",
                "",
                "8",
                "3",
                "2020-01-15",
                "2024-01-15",
                "2028-01-15",
                "0",
                "",
                "",
                "",
                "",
                "",
                "",
            ]
        )
        for f in range(flats):
            flat = str(f + 1)
            premises.append(
                [*address, flat, "flat", str(areas[f]), "", str(1 + f % 3), str(1 + f // 6)]
            )
            n = b * flats_per_building + f
            number = f"{1_000_000 + n}"
            account_rows.append(
                [
                    number,
                    *address,
                    flat,
                    rnd.choice(LAST_NAMES),
                    rnd.choice(FIRST_NAMES),
                    "",
                    "",
                    str(rnd.randint(1, 4)),
                    "1",
                    "2019-03-01",
                    "",
                ]
            )
            for r, resource in enumerate(RESOURCES):
                initial = Decimal(rnd.randint(0, 500))
                last = initial + Decimal(rnd.randint(100, 90000)) / 1000
                meters.append(
                    [
                        f"{resource[:2].upper()}-{n:07d}-{r}",
                        number,
                        resource,
                        "1",
                        "",
                        "5",
                        "3",
                        "2019-03-01",
                        "2023-03-01",
                        "2029-03-01",
                        str(initial),
                        "",
                        "",
                        f"{last_month:%Y-%m}",
                        str(last),
                        "",
                        "",
                    ]
                )
            if n % debtors_every == 0:
                for k in range(debt_months, 0, -1):
                    month = add_months(switch_month, -k)
                    for inn in PROVIDER_INNS[:2]:
                        amount = Decimal(rnd.randint(50000, 300000)) / 100
                        balances.append([number, inn, f"{month:%Y-%m}", str(amount)])
            elif n % 7 == 1:
                balances.append(
                    [number, PROVIDER_INNS[0], f"{last_month:%Y-%m}", "-500.00"]
                )  # an advance
    data = {
        "providers": providers,
        "buildings": buildings,
        "premises": premises,
        "accounts": account_rows,
        "meters": meters,
        "building_meters": building_meters,
        "opening_balances": balances,
    }
    return {s.name: (s.columns, data[s.name]) for s in SHEETS}
