"""The demo built through the importer (`manage.py demo --via-import`): an organization moves in.

A registry workbook is generated (`backoffice.exchange.generate`), written to DATA_DIR and loaded
by `registry_import` exactly as an operator's file would be: buildings, flats, accounts, meters
with their last readings and opening debts per provider. Then the organization's services are
set up for the generated providers, the switch month is opened, part of the residents send
readings, and the month is billed — so the first run bills from the loaded readings and the
receipts carry the loaded debts. The demo logins are the usual ones.
"""

import datetime
import random
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from kvartplata.backoffice.exchange.files import write_xlsx
from kvartplata.backoffice.exchange.generate import BIC, CORRESPONDENT, registry_workbook
from kvartplata.backoffice.exchange.services import registry_import
from kvartplata.billing import services as billing
from kvartplata.billing.models import Norm, Service, Tariff, Unit
from kvartplata.demo import world as demo_world
from kvartplata.lib.periods import add_months, month_start
from kvartplata.meters.models import Reading
from kvartplata.registry.models import Organization, PersonalAccount, Provider

# (code, name, provider INN, unit, method, resource, price, norm per person)
SERVICES = (
    ("maintenance", "Содержание жилого помещения", "7707083893", Unit.M2, "area", "", "28.50",
     None),
    ("cold_water", "Холодное водоснабжение", "7702070139", Unit.M3, "meter", "cold_water",
     "45.67", "4.745"),
    ("hot_water", "Горячее водоснабжение", "7736207543", Unit.M3, "meter", "hot_water",
     "215.30", "3.5"),
    ("electricity", "Электроснабжение", "7728168971", Unit.KWH, "meter", "electricity",
     "6.12", "99"),
)  # fmt: skip


class DemoImportError(Exception):
    pass


def demo_move_in(
    *, accounts: int, seed: int = 2026, today: datetime.date | None = None, log=lambda s: None
) -> demo_world.World:
    today = today or timezone.localdate()
    switch = month_start(today)
    org = Organization.objects.create(
        name="Общество с ограниченной ответственностью «УК Дом»",
        short_name="ООО «УК Дом»",
        inn="7707083893",
        kpp="773601001",
        address="390000, г. Рязань, ул. Почтовая, д. 1",
        bank_name="ПАО Сбербанк",
        bic=BIC,
        correspondent_account=CORRESPONDENT,
        settlement_account="40702810138250123017",
    )
    path = Path(settings.DATA_DIR) / "demo-registry.xlsx"
    write_xlsx(registry_workbook(accounts=accounts, switch_month=switch, seed=seed), path)
    log(f"книга реестра: {path}")
    report = registry_import(organization=org, source=path, switch_month=switch)
    log(report.as_text())
    if not report.ok:
        raise DemoImportError(report.as_text())
    providers = {p.inn: p for p in Provider.objects.filter(organization=org)}
    for sort, (code, name, inn, unit, method, resource, price, norm) in enumerate(SERVICES):
        service = Service.objects.create(
            organization=org,
            provider=providers[inn],
            code=code,
            name=name,
            unit=unit,
            method=method,
            resource=resource,
            sort_order=10 * (sort + 1),
        )
        Tariff.objects.create(
            service=service, zone=0, valid_from=datetime.date(2020, 1, 1), price=Decimal(price)
        )
        if norm:
            Norm.objects.create(
                service=service,
                kind=Norm.Kind.PER_PERSON,
                valid_from=datetime.date(2017, 1, 1),
                value=Decimal(norm),
            )
    billing.period_open(organization=org, month=switch)
    _readings(org, switch, random.Random(seed))
    billing.billing_run(organization=org)
    log(f"{switch:%m.%Y}: первый месяц начислен по загруженным показаниям и долгам")
    ids = list(
        PersonalAccount.objects.filter(organization=org)
        .order_by("number")
        .values_list("id", flat=True)
    )
    world = demo_world.World(
        organization=org,
        accounts=ids,
        resident_account=PersonalAccount.objects.get(id=ids[0]),
        spare_account=PersonalAccount.objects.get(id=ids[min(17, len(ids) - 1)]),
    )
    demo_world._logins(world)
    return world


def _readings(org, month, rng) -> None:
    """Readings of the switch month for two meters in three: the loaded ones plus a month's use."""
    previous = add_months(month, -1)
    now = timezone.now()
    rows = []
    for meter_id, value in Reading.objects.filter(
        meter__account__organization=org, month=previous, is_accepted=True
    ).values_list("meter_id", "value1"):
        if rng.random() < 0.67:
            rows.append(
                Reading(
                    meter_id=meter_id,
                    month=month,
                    value1=value + Decimal(rng.randint(1000, 9000)) / 1000,
                    source=Reading.Source.CABINET,
                    submitted_at=now,
                )
            )
    Reading.objects.bulk_create(rows, batch_size=2000)
