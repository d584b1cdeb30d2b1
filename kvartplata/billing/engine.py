"""The billing run: a month's charges for every account of an organization, in SQL.

`compute_charges` gathers what the month needs in Python — tariffs, norms, the resources'
increasing coefficients, the building meters' volumes (`calc.volumes.meter_consumption`) and
what the common-house formulas need per building — and hands it to `setbased`, which bills every
account service by service with a few INSERT … SELECT statements, writes the meter states the
next month starts from and the late-readings recalculations. There is one biller: each rule's
production implementation is either Python calling `kvartplata.billing.calc` or the SQL of
`setbased` checked against `calc` by differential tests (the list is in `calc/__init__.py`).
What cannot be billed (no tariff, no norm, a reading that went back) is reported per account in
the run's report; the rest of the organization is billed; nothing is billed twice.
"""

import calendar
import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q

from kvartplata.billing import setbased
from kvartplata.billing.calc.common_house import odn_volume_with_meter
from kvartplata.billing.calc.volumes import (
    ReadingDecreased,
    increasing_coefficient,
    meter_consumption,
)
from kvartplata.billing.models import (
    Charge,
    IncreasingCoefficient,
    MeterState,
    Norm,
    Recalculation,
    Resource,
    Service,
    Tariff,
)
from kvartplata.billing.setbased import micro
from kvartplata.lib.periods import add_months, period_label
from kvartplata.meters.models import Meter, Reading
from kvartplata.registry.models import Building, Period

ZERO = Decimal(0)


def month_end(month: datetime.date) -> datetime.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


@dataclass
class RunResult:
    lines: int = 0
    accounts: int = 0
    problems: list = field(default_factory=list)
    totals: dict = field(default_factory=dict)


class Context:
    """Everything about the month that does not depend on the account: tariffs, norms, buildings."""

    def __init__(self, period: Period):
        self.period = period
        self.organization = period.organization
        self.month = period.month
        self.end = month_end(period.month)
        self.prev_month = add_months(period.month, -1)
        self.services = list(
            Service.objects.filter(organization=self.organization, is_active=True).order_by(
                "sort_order", "id"
            )
        )
        self.rates = list(
            IncreasingCoefficient.objects.values_list("resource", "valid_from", "value")
        )
        self.tariffs: dict[tuple[int, int], tuple[Decimal, datetime.date]] = {}
        for t in Tariff.objects.filter(
            service__in=self.services, valid_from__lte=self.month
        ).order_by("valid_from"):
            if t.valid_to is None or t.valid_to >= self.month:
                self.tariffs[(t.service_id, t.zone)] = (t.price, t.valid_from)
        self.norms: dict[tuple[int, str, str], Decimal] = {}
        for n in Norm.objects.filter(
            service__in=self.services, valid_from__lte=self.month
        ).order_by("valid_from"):
            self.norms[(n.service_id, n.kind, n.building_type)] = n.value
        self.buildings = {
            b.id: b
            for b in Building.objects.filter(organization=self.organization).only(
                "id", "total_area", "common_area", "building_type"
            )
        }
        self.building_volumes = self._building_volumes()
        self.previous_period = Period.objects.filter(
            organization=self.organization, month=self.prev_month
        ).first()
        self._gap_tariffs: dict = {}

    def coefficient(self, service: Service) -> Decimal:
        """The resource's increasing coefficient of the month (`calc.volumes`)."""
        return increasing_coefficient(self.rates, service.resource, self.month)

    def tariff(self, service: Service, zone: int) -> Decimal | None:
        found = self.tariffs.get((service.id, zone))
        if found is None and zone == 0 and service.zones > 1:
            found = self.tariffs.get((service.id, 1))
        return found[0] if found else None

    def norm(self, service: Service, kind: str, building_id: int) -> Decimal | None:
        building_type = self.buildings[building_id].building_type
        value = self.norms.get((service.id, kind, building_type))
        return value if value is not None else self.norms.get((service.id, kind, ""))

    def gap_tariff(self, service: Service, zone: int, month: datetime.date) -> Decimal:
        """The tariff of a past month, for the recalculation of a month billed by an estimate."""
        key = (service.id, zone, month)
        if key not in self._gap_tariffs:
            found = None
            for z in (zone, 1) if zone == 0 else (zone,):
                found = (
                    Tariff.objects.filter(service=service, zone=z, valid_from__lte=month)
                    .order_by("-valid_from")
                    .first()
                )
                if found is not None:
                    break
            self._gap_tariffs[key] = found.price if found else ZERO
        return self._gap_tariffs[key]

    def _building_volumes(self) -> dict[tuple[int, str], Decimal]:
        """Consumption of each building meter in the month, from accepted readings."""
        meters = {
            m.id: m
            for m in Meter.objects.filter(
                scope=Meter.Scope.BUILDING, building__organization=self.organization
            ).filter(Q(archived_on__isnull=True) | Q(archived_on__gte=self.month))
        }
        volumes: dict[tuple[int, str], Decimal] = {}
        if not meters:
            return volumes
        current = {
            r.meter_id: r
            for r in Reading.objects.filter(meter_id__in=meters, month=self.month, is_accepted=True)
        }
        previous: dict[int, Reading] = {}
        for r in Reading.objects.filter(
            meter_id__in=current, month__lt=self.month, is_accepted=True
        ).order_by("meter_id", "-month"):
            previous.setdefault(r.meter_id, r)
        for meter_id, reading in current.items():
            meter = meters[meter_id]
            before = previous.get(meter_id)
            start = before.value1 if before else meter.initial_value1
            try:
                volume = meter_consumption(start, reading.value1, capacity_digits=meter.digits)
            except (ReadingDecreased, ValueError):
                continue
            key = (meter.building_id, meter.resource)
            volumes[key] = volumes.get(key, ZERO) + volume
        return volumes


class Report:
    """What the run could not bill and why: per account, or once per service."""

    def __init__(self, result: RunResult):
        self.result = result
        self.seen: set = set()

    def add(self, account_id: int | None, service: Service | None, text: str) -> None:
        key = (account_id, service.id if service else None, text)
        if key in self.seen:
            return
        self.seen.add(key)
        self.result.problems.append(
            {"account": account_id, "service": service.name if service else "", "problem": text}
        )


def common_house_buildings(
    context: Context, service: Service, individual: dict[int, Decimal], report: Report
) -> list:
    """Per building, what the set-based ОДН lines need (`setbased.SetBased.common_house`).

    Formula 12's common volume is the building meter's volume less the flats' plain volumes
    (`calc.common_house.odn_volume_with_meter`: a negative difference is taken as zero).
    """
    rows = []
    for building_id, building in context.buildings.items():
        if building.total_area is None or building.total_area <= 0:
            report.add(None, service, f"нет общей площади дома № {building_id}")
            continue
        common_norm = context.norm(service, Norm.Kind.COMMON_AREA, building_id)
        norm_num = None
        if common_norm is not None:
            norm_num = micro(common_norm) * int(building.common_area * 100)
        building_volume = context.building_volumes.get((building_id, service.resource))
        total_c = int(building.total_area * 100)
        if building_volume is not None:
            ind = individual.get(building_id, ZERO)
            common = odn_volume_with_meter(
                building_volume=building_volume,
                non_residential_volume=ZERO,
                flats_norm_volume=ZERO,
                flats_meter_volume=ind,
            )
            details = {
                "building_volume": str(building_volume),
                "individual_volume": str(ind),
                "common_volume": str(common),
                "total_area": str(building.total_area),
            }
            method = Charge.Method.COMMON_HOUSE_METER
            common_e6 = micro(common)
        elif common_norm is not None:
            details = {
                "common_area": str(building.common_area),
                "total_area": str(building.total_area),
            }
            method, common_e6 = Charge.Method.COMMON_HOUSE_NORM, None
        else:
            continue
        if context.organization.cap_common_house_by_norm and common_norm is not None:
            details["common_area"] = str(building.common_area)
        if service.zones > 1:
            # A two-zone service's common needs are billed at one rate: its single-rate tariff
            # when it has one, else the day zone's (T1); the explanation says which.
            details["tariff_zone"] = 0 if (service.id, 0) in context.tariffs else 1
        rows.append(
            (
                building_id,
                method,
                common_e6,
                norm_num,
                total_c,
                micro(common_norm),
                json.dumps(details),
            )
        )
    return rows


def late_reason(service: Service, month: datetime.date) -> str:
    return (
        f"{service.name}: поступили показания, перерасчёт начисления по среднему/нормативу "
        f"за {period_label(month)}"
    )


def compute_charges(
    period: Period,
    *,
    run_id: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Delete and recompute the charge lines of an open period; returns the result and report.

    The caller holds the transaction; the ledger is posted by `kvartplata.billing.ledger`.
    """
    context = Context(period)
    result = RunResult()
    report = Report(result)
    Charge.objects.filter(period=period).delete()
    MeterState.objects.filter(period=period).delete()
    # The ledger entries of the earlier run's automatic recalculations went first (services).
    Recalculation.objects.filter(period=period, source=Recalculation.Source.LATE_READINGS).delete()
    sql = setbased.SetBased(context, run_id, gap_tariff=context.gap_tariff, reason=late_reason)
    sql.prepare()
    total = setbased.fetch("SELECT COUNT(*) FROM run_acc")[0][0]
    result.accounts = total
    # Progress is told in accounts, by steps: every service, then the common needs and writing.
    steps = len(context.services) + 2
    step = [0]

    def advance():
        step[0] += 1
        if progress:
            progress(min(total * step[0] // steps, total), total)

    def single_rate(service: Service) -> Decimal | None:
        tariff = context.tariff(service, 0)
        if tariff is None:
            report.add(None, service, "нет тарифа на период")
        return tariff

    for service in context.services:
        advance()
        problems = []
        if service.method == Service.Method.METER:
            zones = [0] if service.zones == 1 else list(range(1, service.zones + 1))
            tariffs = [context.tariff(service, z) for z in zones]
            if any(t is None for t in tariffs):
                report.add(None, service, "нет тарифа на период")
                continue
            problems = sql.metered(service, tariffs, zones, context.coefficient(service))
        elif service.method == Service.Method.HEATING:
            tariff = single_rate(service)
            if tariff is not None:
                problems = sql.heating(service, tariff)
        elif service.method in (Service.Method.AREA, Service.Method.PERSON):
            tariff = single_rate(service)
            if tariff is not None:
                sql.flat_rate(service, tariff)
        for account_id, text in problems:
            report.add(account_id, service, text)
    water = [
        s.id
        for s in context.services
        if s.method == Service.Method.METER
        and s.resource in (Resource.COLD_WATER, Resource.HOT_WATER)
    ]
    for service in context.services:
        if service.method == Service.Method.WASTEWATER:
            tariff = single_rate(service)
            if tariff is not None:
                sql.wastewater(service, tariff, water)
    advance()
    for service in context.services:
        if service.has_common_house:
            tariff = context.tariff(service, 0)
            if tariff is None:
                continue
            individual = sql.individual_by_building(service)
            sql.common_house(
                service, tariff, common_house_buildings(context, service, individual, report)
            )
    advance()
    result.lines = sql.flush()
    sql.save_recalculations()
    sql.finish()
    if progress:
        progress(total, total)
    return result
