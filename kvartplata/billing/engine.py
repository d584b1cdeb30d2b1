"""The billing run: set-based computation of a month's charges for every account of an organization.

Work is done in batches of accounts, with a fixed number of queries per batch and rows written
with COPY (PostgreSQL) or executemany (SQLite). Each metered line carries a «cursor» in its
details — the reading it was computed to, the recent monthly volumes and the months billed by an
estimate since — so that the next month needs only this month's lines, not the history.
"""

import calendar
import datetime
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q

from kvartplata.billing import setbased
from kvartplata.billing.calc.volumes import (
    AVERAGE_MAX_PERIODS,
    AVERAGE_MIN_MONTHS_NEWER_METER,
    AVERAGE_MONTHS,
    INCREASING_COEFFICIENT,
    ReadingDecreased,
    meter_consumption,
    round_volume,
)
from kvartplata.billing.explain import UNIT_LABEL, num
from kvartplata.billing.models import (
    HISTORY_SLOTS,
    MAX_ZONES,
    Charge,
    MeterState,
    Norm,
    Period,
    Recalculation,
    Resource,
    Service,
    Tariff,
    history_column,
)
from kvartplata.billing.setbased import from_micro, micro
from kvartplata.lib.db import bulk_insert
from kvartplata.lib.money import format_rub, round_money
from kvartplata.lib.periods import add_months, period_label
from kvartplata.meters.models import Meter, Reading
from kvartplata.registry.models import Building, PersonalAccount

ZERO = Decimal(0)
BATCH = 2000  # accounts per batch: a few queries each
METHOD_RANK = {"meter": 0, "average": 1, "norm": 2, "norm_coefficient": 3}
# Billed by one INSERT … SELECT per service, not line by line in Python.
SET_BASED = {Service.Method.AREA, Service.Method.PERSON}


def month_end(month: datetime.date) -> datetime.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


@dataclass
class AccountRow:
    id: int
    area: Decimal
    residents: int
    building_id: int
    non_residential: bool


@dataclass
class MeterRow:
    id: int
    account_id: int
    resource: str
    zones: int
    digits: int
    installed_on: datetime.date
    next_verification_on: datetime.date
    archived_on: datetime.date | None
    serial: str
    initial: list[Decimal]


@dataclass
class Line:
    """One charge line before it is written."""

    account_id: int
    service: Service
    kind: str
    zone: int
    method: str
    volume: Decimal
    tariff: Decimal
    amount: Decimal
    norm: Decimal | None = None
    coefficient: Decimal | None = None
    details: dict = field(default_factory=dict)


@dataclass
class RunResult:
    lines: int = 0
    accounts: int = 0
    problems: list = field(default_factory=list)
    recalculations: list = field(default_factory=list)
    totals: dict = field(default_factory=dict)


class Context:
    """Everything about the month that does not depend on the account: tariffs, norms, buildings."""

    def __init__(self, period: Period):
        self.period = period
        self.organization = period.organization
        self.month = period.month
        self.end = month_end(period.month)
        self.prev_month = add_months(period.month, -1)
        self.coefficient = self.organization.no_meter_coefficient or INCREASING_COEFFICIENT
        self.services = list(
            Service.objects.filter(organization=self.organization, is_active=True).order_by(
                "sort_order", "id"
            )
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

    def tariff(self, service: Service, zone: int) -> Decimal | None:
        found = self.tariffs.get((service.id, zone))
        if found is None and zone == 0 and service.zones > 1:
            found = self.tariffs.get((service.id, 1))
        return found[0] if found else None

    def norm(self, service: Service, kind: str, building_id: int) -> Decimal | None:
        building_type = self.buildings[building_id].building_type
        value = self.norms.get((service.id, kind, building_type))
        return value if value is not None else self.norms.get((service.id, kind, ""))

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


def _accounts(context: Context, ids) -> list[AccountRow]:
    rows = (
        PersonalAccount.objects.filter(
            organization=context.organization, opened_on__lte=context.end, id__in=ids
        )
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gte=context.month))
        .order_by("id")
        .values_list(
            "id",
            "premises__total_area",
            "share",
            "residents",
            "premises__building_id",
            "premises__kind",
        )
    )
    return [
        AccountRow(
            id=i,
            area=(area * share).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
            residents=residents,
            building_id=building_id,
            non_residential=kind == "non_residential",
        )
        for i, area, share, residents, building_id, kind in rows
    ]


class Biller:
    """Computes the lines of one batch of accounts."""

    def __init__(self, context: Context, result: RunResult):
        self.c = context
        self.result = result
        self.metered = [s for s in context.services if s.method == Service.Method.METER]
        self.metered_ids = [s.id for s in self.metered]
        self.states: list[dict] = []
        self.reported: set = set()

    def problem(self, account_id, service, text):
        key = (service.id if service else None, text) if account_id is None else None
        if key is not None:
            if key in self.reported:
                return
            self.reported.add(key)
        self.result.problems.append(
            {"account": account_id, "service": service.name if service else "", "problem": text}
        )

    # --- data of a batch -------------------------------------------------------------------

    def load(self, accounts: list[AccountRow]):
        ids = [a.id for a in accounts]
        c = self.c
        meters = list(
            Meter.objects.filter(
                account_id__in=ids, scope=Meter.Scope.FLAT, installed_on__lte=c.end
            )
            .filter(Q(archived_on__isnull=True) | Q(archived_on__gte=c.month))
            .values_list(
                "id",
                "account_id",
                "resource",
                "zones",
                "digits",
                "installed_on",
                "next_verification_on",
                "archived_on",
                "serial_number",
                "initial_value1",
                "initial_value2",
                "initial_value3",
            )
        )
        self.meters: dict[tuple[int, str], list[MeterRow]] = defaultdict(list)
        meter_ids = []
        for row in meters:
            m = MeterRow(*row[:9], initial=[v or ZERO for v in row[9 : 9 + row[3]]])
            self.meters[(m.account_id, m.resource)].append(m)
            meter_ids.append(m.id)
        self.readings: dict[int, list[Decimal]] = {}
        for meter_id, v1, v2, v3, zones in Reading.objects.filter(
            meter_id__in=meter_ids, month=c.month, is_accepted=True
        ).values_list("meter_id", "value1", "value2", "value3", "meter__zones"):
            self.readings[meter_id] = [v or ZERO for v in (v1, v2, v3)[:zones]]
        self.cursors: dict[int, dict] = self.state_cursors(meter_ids)
        legacy = [i for i in meter_ids if i not in self.cursors]
        if legacy:
            # Runs before meter states existed kept the cursors in the previous month's lines.
            for details in Charge.objects.filter(
                account_id__in=ids,
                period__organization=c.organization,
                period__month=c.prev_month,
                kind=Charge.Kind.INDIVIDUAL,
                service_id__in=self.metered_ids,
            ).values_list("details", flat=True):
                for meter_id, cursor in (details or {}).get("cursors", {}).items():
                    self.cursors.setdefault(int(meter_id), cursor)
        missing = [i for i in meter_ids if i not in self.cursors]
        self.history: dict[int, list[tuple[datetime.date, list[Decimal]]]] = defaultdict(list)
        if missing:
            for meter_id, month, v1, v2, v3 in (
                Reading.objects.filter(meter_id__in=missing, month__lt=c.month, is_accepted=True)
                .filter(month__gte=add_months(c.month, -(AVERAGE_MONTHS + 1)))
                .order_by("meter_id", "month")
                .values_list("meter_id", "month", "value1", "value2", "value3")
            ):
                self.history[meter_id].append((month, [v or ZERO for v in (v1, v2, v3)]))

    def initial_cursor(self, meter: MeterRow) -> dict:
        """A cursor for a meter billed here for the first time: its last reading and history."""
        history = self.history.get(meter.id, [])
        if not history:
            return {"v": [str(v) for v in meter.initial], "h": [], "g": []}
        hist = []
        for (m1, a), (m2, b) in zip(history, history[1:], strict=False):
            if add_months(m1, 1) == m2:
                try:
                    hist.append(
                        [
                            str(meter_consumption(a[z], b[z], capacity_digits=meter.digits))
                            for z in range(meter.zones)
                        ]
                    )
                except (ReadingDecreased, ValueError):
                    hist = []
        last = history[-1][1][: meter.zones]
        return {"v": [str(v) for v in last], "h": hist[-AVERAGE_MONTHS:], "g": []}

    # --- lines -------------------------------------------------------------------------------

    def state_cursors(self, meter_ids: list[int]) -> dict[int, dict]:
        """Cursors of meters from their states after the previous month's run."""
        c = self.c
        if not meter_ids or c.previous_period is None:
            return {}
        states = {
            s.meter_id: s
            for s in MeterState.objects.filter(period=c.previous_period, meter_id__in=meter_ids)
        }
        zones_of = {m.id: m.zones for ms in self.meters.values() for m in ms}
        gaps: dict[int, list] = defaultdict(list)
        longest = max((s.gap for s in states.values()), default=0)
        if longest:
            for meter_id, month, *e in (
                MeterState.objects.filter(
                    meter_id__in=[i for i, s in states.items() if s.gap],
                    period__organization=c.organization,
                    period__month__gte=add_months(c.month, -longest),
                    period__month__lt=c.month,
                )
                .order_by("period__month")
                .values_list("meter_id", "period__month", "e1", "e2", "e3")
            ):
                gaps[meter_id].append((month, e))
        cursors = {}
        for meter_id, state in states.items():
            zones = range(1, zones_of[meter_id] + 1)
            slots = range(HISTORY_SLOTS - state.hn + 1, HISTORY_SLOTS + 1)
            cursors[meter_id] = {
                "v": [str(from_micro(getattr(state, f"r{z}"))) for z in zones],
                "h": [
                    [str(from_micro(getattr(state, history_column(z, k)))) for z in zones]
                    for k in slots
                ],
                "g": [
                    {
                        "m": month.isoformat(),
                        "vol": [str(from_micro(e[z - 1])) for z in zones],
                    }
                    for month, e in gaps[meter_id][-state.gap :]
                ]
                if state.gap
                else [],
            }
        return cursors

    def state(self, meter: MeterRow, cursor: dict, method: str, volumes: list[Decimal]):
        """The meter's state after this month, for the next month's run."""
        row = {
            "period_id": self.c.period.id,
            "meter_id": meter.id,
            "account_id": meter.account_id,
            "method": method,
            "gap": len(cursor.get("g", [])),
            "hn": len(cursor.get("h", [])),
        }
        for z in range(1, MAX_ZONES + 1):
            v = cursor["v"][z - 1] if z <= len(cursor["v"]) else None
            row[f"r{z}"] = micro(Decimal(v)) if v is not None else None
            row[f"e{z}"] = micro(volumes[z - 1]) if z <= len(volumes) else None
        hist = cursor.get("h", [])[-HISTORY_SLOTS:]
        for k in range(1, HISTORY_SLOTS + 1):
            i = len(hist) - (HISTORY_SLOTS - k) - 1
            for z in range(1, MAX_ZONES + 1):
                value = hist[i][z - 1] if i >= 0 and z <= len(hist[i]) else None
                row[history_column(z, k)] = micro(Decimal(value)) if value is not None else None
        self.states.append(row)

    def bill_left(self, accounts: list[AccountRow], left: dict) -> list[Line]:
        """Lines SQL left to Python: the services named for each account."""
        self.load(accounts)
        lines: list[Line] = []
        for account in accounts:
            for service in left[account.id]:
                if service.method == Service.Method.METER:
                    lines.extend(self.metered_lines(account, service))
                else:
                    line = self.simple_line(account, service)
                    if line:
                        lines.append(line)
        return lines

    def single_rate(self, service: Service) -> Decimal | None:
        """The service's single-rate tariff of the month, or a report that there is none."""
        tariff = self.c.tariff(service, 0)
        if tariff is None:
            self.problem(None, service, "нет тарифа на период")
        return tariff

    @staticmethod
    def line(account, service, method, volume, tariff, text, *, kind=Charge.Kind.INDIVIDUAL,
             norm=None, coefficient=None, details=None) -> Line:  # fmt: skip
        """A charge line: volume × tariff rounded to kopecks, and how it came about in words."""
        amount = round_money(volume * tariff)
        details = {**(details or {}), "explanation": f"{text} = {format_rub(amount)}"}
        return Line(account.id, service, kind, 0, method, volume, tariff, amount, norm,
                    coefficient, details)  # fmt: skip

    def simple_line(self, account: AccountRow, service: Service) -> Line | None:
        tariff = self.single_rate(service)
        if tariff is None:
            return None
        unit = UNIT_LABEL.get(service.unit, service.unit)
        if service.method == Service.Method.AREA:
            volume, method = account.area, Charge.Method.AREA
            text = f"по площади: {num(volume, 2)} м² × {num(tariff, 2)} ₽"
        elif service.method == Service.Method.PERSON:
            volume, method = Decimal(account.residents), Charge.Method.PERSON
            text = f"по числу проживающих: {account.residents} чел. × {num(tariff, 2)} ₽"
        else:  # heating by the norm per m²
            norm = self.c.norm(service, Norm.Kind.PER_AREA, account.building_id)
            if norm is None:
                self.problem(account.id, service, "нет норматива отопления")
                return None
            volume = round_volume(norm * account.area)
            text = (
                f"по нормативу: {num(account.area, 2)} м² × {num(norm, 4)} {unit}/м² = "
                f"{num(volume, 4)} {unit} × {num(tariff, 2)} ₽"
            )
            return self.line(account, service, Charge.Method.NORM, volume, tariff, text, norm=norm)
        return self.line(account, service, method, volume, tariff, text)

    def norm_volume(self, account: AccountRow, service: Service) -> tuple[Decimal, Decimal] | None:
        norm = self.c.norm(service, Norm.Kind.PER_PERSON, account.building_id)
        if norm is None:
            return None
        # Nobody registered: the norm is applied to one person (ПП 354 п. 56(2) counts owners).
        return norm, round_volume(norm * max(account.residents, 1))

    def metered_lines(self, account: AccountRow, service: Service) -> list[Line]:
        c = self.c
        unit = UNIT_LABEL.get(service.unit, service.unit)
        tariffs = [c.tariff(service, z) for z in self.zone_list(service)]
        if any(t is None for t in tariffs):
            self.problem(None, service, "нет тарифа на период")
            return []
        meters = self.meters.get((account.id, service.resource), [])
        if not meters:
            return self.norm_lines(account, service, installable=service.meter_installable)
        per_meter = []
        need_norm = False
        for meter in meters:
            cursor = self.cursors.get(meter.id) or self.initial_cursor(meter)
            outcome = self.meter_outcome(account, service, meter, cursor)
            if outcome is None:
                need_norm = True
                per_meter.append((meter, cursor, None))
            else:
                per_meter.append((meter, cursor, outcome))
        if need_norm:
            invalid = any(not self.meter_valid(m) for m in meters)
            lines = self.norm_lines(account, service, installable=invalid, meters=per_meter)
            return lines
        zones = self.zone_list(service)
        volumes = {z: ZERO for z in zones}
        method = "meter"
        texts = []
        for meter, _cursor, (kind, zone_volumes, new_cursor, text) in per_meter:
            for i, v in enumerate(zone_volumes):
                z = zones[i] if i < len(zones) else zones[-1]
                volumes[z] += v
            if METHOD_RANK[kind] > METHOD_RANK[method]:
                method = kind
            texts.append(text)
            self.state(meter, new_cursor, kind, zone_volumes)
        lines = []
        for i, z in enumerate(zones):
            tariff = tariffs[i]
            amount = round_money(volumes[z] * tariff)
            details = {
                "explanation": "; ".join(texts)
                + f"; {num(volumes[z])} {unit} × {num(tariff, 2)} ₽ = {format_rub(amount)}"
            }
            lines.append(
                Line(
                    account.id,
                    service,
                    Charge.Kind.INDIVIDUAL,
                    z,
                    method,
                    volumes[z],
                    tariff,
                    amount,
                    details=details,
                )
            )
        # Gap months billed by an estimate are billed only now that the amounts are known.
        self.late_recalculations(account, service, per_meter, zones)
        return lines

    def zone_list(self, service: Service) -> list[int]:
        return [0] if service.zones == 1 else list(range(1, service.zones + 1))

    def meter_valid(self, meter: MeterRow) -> bool:
        if meter.resource == Resource.ELECTRICITY:
            return True  # readings of an electricity meter past verification are still used
        return meter.next_verification_on >= self.c.month

    def meter_outcome(self, account, service, meter: MeterRow, cursor: dict):
        """By readings or by average for one meter; None when the norm must be used."""
        c = self.c
        previous = [Decimal(v) for v in cursor["v"]]
        reading = self.readings.get(meter.id)
        hist = [[Decimal(v) for v in h] for h in cursor.get("h", [])]
        gap = cursor.get("g", [])
        if reading is not None and self.meter_valid(meter):
            try:
                totals = [
                    meter_consumption(previous[z], reading[z], capacity_digits=meter.digits)
                    for z in range(meter.zones)
                ]
            except (ReadingDecreased, ValueError) as exc:
                self.problem(account.id, service, str(exc))
                return None
            n = len(gap) + 1
            share = [round_volume(t / n) for t in totals]
            current = [t - s * len(gap) for t, s in zip(totals, share, strict=True)]
            new_hist = (hist + [share] * len(gap) + [current])[-AVERAGE_MONTHS:]
            text = "по показаниям прибора № {}: {} ".format(
                meter.serial,
                ", ".join(
                    f"{num(reading[z])} − {num(previous[z])} = {num(totals[z])}"
                    for z in range(meter.zones)
                ),
            )
            if gap:
                text += f"(расход за {n} мес., из них за этот месяц {num(sum(current))})"
            cursor_out = {
                "v": [str(v) for v in reading],
                "h": [[str(v) for v in h] for h in new_hist],
                "g": [],
                "late": {"gap": gap, "share": [str(s) for s in share]} if gap else None,
            }
            return ("meter", current, cursor_out, text.strip())
        newer = (c.month - meter.installed_on).days < 183
        needed = AVERAGE_MIN_MONTHS_NEWER_METER if newer else AVERAGE_MONTHS
        if len(gap) < AVERAGE_MAX_PERIODS and len(hist) >= needed:
            recent = hist[-AVERAGE_MONTHS:]
            avg = [
                round_volume(sum((h[z] for h in recent), ZERO) / len(recent))
                for z in range(meter.zones)
            ]
            text = f"по среднему за {len(recent)} мес. (прибор № {meter.serial}): " + ", ".join(
                num(v) for v in avg
            )
            cursor_out = {
                "v": cursor["v"],
                "h": cursor.get("h", []),
                "g": gap + [{"m": c.month.isoformat(), "vol": [str(v) for v in avg]}],
            }
            return ("average", avg, cursor_out, text)
        return None

    def norm_lines(self, account, service, *, installable: bool, meters=None) -> list[Line]:
        got = self.norm_volume(account, service)
        if got is None:
            self.problem(account.id, service, "нет норматива потребления")
            return []
        norm, volume = got
        coefficient = self.c.coefficient if installable else Decimal(1)
        unit = UNIT_LABEL.get(service.unit, service.unit)
        residents = max(account.residents, 1)
        text = f"по нормативу: {residents} чел. × {num(norm, 3)} {unit}"
        method = Charge.Method.NORM
        if coefficient != 1:
            volume = round_volume(volume * coefficient)
            text += f" × {num(coefficient, 1)}"
            method = Charge.Method.NORM_COEFFICIENT
        tariff = self.c.tariff(service, 0)
        text = f"{text} = {num(volume)} {unit} × {num(tariff, 2)} ₽"
        details = {}
        if meters:
            share = round_volume(volume / len(meters))
            for meter, cursor, _ in meters:
                each = [round_volume(share / meter.zones)] * meter.zones
                gap = {"m": self.c.month.isoformat(), "vol": [str(v) for v in each]}
                cursor_out = {
                    "v": cursor["v"],
                    "h": cursor.get("h", []),
                    "g": cursor.get("g", []) + [gap],
                }
                self.state(meter, cursor_out, "norm", each)
        coefficient = coefficient if coefficient != 1 else None
        line = self.line(
            account, service, method, volume, tariff, text, norm=norm, coefficient=coefficient,
            details=details,
        )  # fmt: skip
        return [line]

    def late_recalculations(self, account, service, per_meter, zones):
        """Months billed by an estimate are recalculated by the readings that arrived now.

        The consumption since the last reading used is spread evenly over the months it covers
        (ПП 354 п. 61); each estimated month gets the difference at its own tariff.
        """
        by_month: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for _meter, _cursor, outcome in per_meter:
            late = outcome[2].get("late") if outcome else None
            if not late:
                continue
            share = [Decimal(s) for s in late["share"]]
            for gap in late["gap"]:
                month = datetime.date.fromisoformat(gap["m"])
                billed = [Decimal(v) for v in gap["vol"]]
                for i, z in enumerate(zones[: len(share)]):
                    tariff = self.gap_tariff(service, z, month)
                    by_month[gap["m"]] += (
                        share[i] - billed[i] if i < len(billed) else share[i]
                    ) * (tariff)
        for month_iso, delta in sorted(by_month.items()):
            amount = round_money(delta)
            if amount == 0:
                continue
            month = datetime.date.fromisoformat(month_iso)
            self.result.recalculations.append(
                {
                    "account_id": account.id,
                    "service_id": service.id,
                    "concerns_month": month,
                    "amount": amount,
                    "reason": late_reason(service, month),
                }
            )

    def gap_tariff(self, service, zone, month) -> Decimal:
        key = (service.id, zone, month)
        cache = self.__dict__.setdefault("_gap_tariffs", {})
        if key not in cache:
            t = (
                Tariff.objects.filter(service=service, zone=zone, valid_from__lte=month)
                .order_by("-valid_from")
                .first()
            )
            if t is None and zone == 0:
                t = (
                    Tariff.objects.filter(service=service, zone=1, valid_from__lte=month)
                    .order_by("-valid_from")
                    .first()
                )
            cache[key] = t.price if t else ZERO
        return cache[key]

    # --- common-house needs ------------------------------------------------------------------

    def common_house_buildings(self, service: Service, individual: dict[int, Decimal]) -> list:
        """Per building, what the set-based ОДН lines need (`setbased.SetBased.common_house`)."""
        c = self.c
        rows = []
        for building_id, building in c.buildings.items():
            if building.total_area is None or building.total_area <= 0:
                self.problem(None, service, f"нет общей площади дома № {building_id}")
                continue
            common_norm = c.norm(service, Norm.Kind.COMMON_AREA, building_id)
            norm_num = None
            if common_norm is not None:
                norm_num = micro(common_norm) * int(building.common_area * 100)
            building_volume = c.building_volumes.get((building_id, service.resource))
            total_c = int(building.total_area * 100)
            if building_volume is not None:
                ind = individual.get(building_id, ZERO)
                common = max(building_volume - ind, ZERO)
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
            if c.organization.cap_common_house_by_norm and common_norm is not None:
                details["common_area"] = str(building.common_area)
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
    batch_size: int | None = None,
) -> RunResult:
    """Delete and recompute the charge lines of an open period; returns the result and report.

    SQL bills every account at once, service by service (`setbased`); what it cannot decide is
    billed here in Python, in batches. The caller holds the transaction; the ledger is posted
    by `kvartplata.billing.ledger`.
    """
    batch_size = batch_size or BATCH
    context = Context(period)
    result = RunResult()
    biller = Biller(context, result)
    Charge.objects.filter(period=period).delete()
    MeterState.objects.filter(period=period).delete()
    # The ledger entries of the earlier run's automatic recalculations went first (services).
    Recalculation.objects.filter(period=period, source=Recalculation.Source.LATE_READINGS).delete()
    sql = setbased.SetBased(context, run_id, gap_tariff=biller.gap_tariff, reason=late_reason)
    sql.prepare()
    total = setbased.fetch("SELECT COUNT(*) FROM run_acc")[0][0]
    result.accounts = total
    left: dict[int, list[Service]] = defaultdict(list)
    # Progress is told in accounts, by steps: every service, then the rest, then the writing.
    steps = len(context.services) + 3
    step = [0]

    def advance():
        step[0] += 1
        if progress:
            progress(min(total * step[0] // steps, total), total)

    for service in context.services:
        advance()
        if service.method == Service.Method.METER:
            zones = biller.zone_list(service)
            tariffs = [context.tariff(service, z) for z in zones]
            if any(t is None for t in tariffs):
                biller.problem(None, service, "нет тарифа на период")
                continue
            for account_id in sql.metered(service, tariffs, zones):
                left[account_id].append(service)
        elif service.method == Service.Method.HEATING:
            tariff = biller.single_rate(service)
            if tariff is not None:
                for account_id in sql.heating(service, tariff):
                    left[account_id].append(service)
        elif service.method in SET_BASED:
            tariff = biller.single_rate(service)
            if tariff is not None:
                sql.flat_rate(service, tariff)
    accounts = _accounts(context, sorted(left)) if left else []
    for start in range(0, len(accounts), batch_size):
        batch = accounts[start : start + batch_size]
        write_lines(period, biller.bill_left(batch, left), run_id)
        bulk_insert("billing_meterstate", setbased.STATE_COLUMNS, _state_rows(biller.states))
        biller.states = []
    advance()
    water = [
        s.id
        for s in context.services
        if s.method == Service.Method.METER
        and s.resource in (Resource.COLD_WATER, Resource.HOT_WATER)
    ]
    for service in context.services:
        if service.method == Service.Method.WASTEWATER:
            tariff = biller.single_rate(service)
            if tariff is not None:
                sql.wastewater(service, tariff, water)
    for service in context.services:
        if service.has_common_house:
            tariff = context.tariff(service, 0)
            if tariff is None:
                continue
            individual = sql.individual_by_building(service)
            sql.common_house(service, tariff, biller.common_house_buildings(service, individual))
    advance()
    result.lines = sql.flush()
    sql.save_recalculations(result.recalculations)
    sql.finish()
    if progress:
        progress(total, total)
    return result


def _state_rows(states: list[dict]):
    return [tuple(row[c] for c in setbased.STATE_COLUMNS) for row in states]


def write_lines(period: Period, lines: list[Line], run_id) -> int:
    rows = [
        (
            line.account_id,
            period.id,
            line.service.id,
            line.kind,
            line.zone,
            line.method,
            line.volume,
            line.tariff,
            line.norm,
            line.coefficient,
            line.amount,
            line.details,
            run_id,
        )
        for line in lines
    ]
    return bulk_insert(setbased.LINES, setbased.CHARGE_COLUMNS, rows, json_columns=["details"])
