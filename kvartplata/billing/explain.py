"""How a charge line came about, in words and numbers, composed when a page shows it.

The billing run writes lines set-based in SQL and keeps no text: the numbers of the line, of the
meter's state after the run (`MeterState`) and of the building (the line's details) say it all.
Lines written by the Python biller still carry their text in `details["explanation"]`.
"""

from decimal import Decimal

from kvartplata.billing.calc.common_house import area_share
from kvartplata.billing.calc.volumes import round_volume
from kvartplata.billing.models import Charge, MeterState, Period, Resource, Service
from kvartplata.billing.setbased import from_micro
from kvartplata.lib.money import format_rub, format_volume
from kvartplata.lib.periods import add_months
from kvartplata.meters.models import Meter

UNIT_LABEL = {"m3": "м³", "kwh": "кВт·ч", "gcal": "Гкал", "m2": "м²", "person": "чел."}
WATER = (Resource.COLD_WATER, Resource.HOT_WATER)


def num(value: Decimal, places: int = 3) -> str:
    return format_volume(value, places)


def attach(charges: list[Charge], account, period: Period) -> None:
    """Compose the explanation of every line of one account and month (at most 2 queries)."""
    missing = [c for c in charges if not (c.details or {}).get("explanation")]
    if not missing:
        return
    metered = [
        c
        for c in missing
        if c.service.method == Service.Method.METER and c.method in ("meter", "average")
    ]
    states, previous, meters = {}, {}, {}
    if metered:
        resources = {c.service.resource for c in metered}
        meters = {
            m.id: m
            for m in Meter.objects.filter(
                account_id=account.id, scope=Meter.Scope.FLAT, resource__in=resources
            )
        }
        prev_month = add_months(period.month, -1)
        for s in MeterState.objects.filter(
            meter_id__in=list(meters),
            period__organization_id=period.organization_id,
            period__month__in=[prev_month, period.month],
        ).select_related("period"):
            (states if s.period.month == period.month else previous)[s.meter_id] = s
    water: dict[str, Decimal] = {}
    for c in charges:
        individual = c.kind == Charge.Kind.INDIVIDUAL
        if individual and c.service.method == Service.Method.METER and c.service.resource in WATER:
            water[c.service.resource] = water.get(c.service.resource, Decimal(0)) + c.volume
    area = account.area if account.premises.total_area is not None else None
    for c in missing:
        c._explanation = _text(c, states, previous, meters, water, area, period)


def _tail(c: Charge, unit: str) -> str:
    return f"{num(c.volume)} {unit} × {num(c.tariff, 2)} ₽ = {format_rub(c.amount)}"


def _text(c, states, previous, meters, water, area, period) -> str:
    service = c.service
    unit = UNIT_LABEL.get(service.unit, service.unit)
    if c.kind == Charge.Kind.COMMON_HOUSE:
        return _common_house(c, unit, area, period)
    if service.method == Service.Method.WASTEWATER:
        parts = " + ".join(num(v) for v in water.values())
        return f"ХВС + ГВС: {parts} = {_tail(c, 'м³')}"
    if service.method == Service.Method.HEATING:
        flat = (c.volume / c.norm).quantize(Decimal("0.01")) if c.norm else area or Decimal(0)
        return (
            f"по нормативу: {num(flat, 2)} м² × {num(c.norm or 0, 4)} {unit}/м² = "
            f"{num(c.volume, 4)} {unit} × {num(c.tariff, 2)} ₽ = {format_rub(c.amount)}"
        )
    if c.method in (Charge.Method.NORM, Charge.Method.NORM_COEFFICIENT) and c.norm:
        base = c.volume / c.coefficient if c.coefficient else c.volume
        residents = int(round_volume(base / c.norm).to_integral_value())
        text = f"по нормативу: {residents} чел. × {num(c.norm, 3)} {unit}"
        if c.coefficient:
            text += f" × {num(c.coefficient, 1)}"
        return f"{text} = {_tail(c, unit)}"
    if c.method in (Charge.Method.METER, Charge.Method.AVERAGE):
        return _metered(c, unit, states, previous, meters)
    return c.explanation


def _metered(c, unit, states, previous, meters) -> str:
    zones = range(1, c.service.zones + 1)
    texts = []
    for meter_id, state in states.items():
        meter = meters.get(meter_id)
        if meter is None or meter.resource != c.service.resource:
            continue
        if state.method == "meter":
            before = previous.get(meter_id)
            parts = []
            for z in zones:
                now = from_micro(getattr(state, f"r{z}"))
                used = from_micro(getattr(state, f"e{z}"))
                was = from_micro(getattr(before, f"r{z}")) if before else now - used
                parts.append(f"{num(now)} − {num(was)} = {num(now - was)}")
            text = f"по показаниям прибора № {meter.serial_number}: {', '.join(parts)}"
            if before is not None and before.gap:
                # Readings after estimated months: the consumption was spread over them.
                this_month = sum((from_micro(getattr(state, f"e{z}")) for z in zones), Decimal(0))
                text += (
                    f" (расход за {before.gap + 1} мес., из них за этот месяц {num(this_month)})"
                )
            texts.append(text)
        elif state.method == "average":
            values = ", ".join(num(from_micro(getattr(state, f"e{z}"))) for z in zones)
            texts.append(
                f"по среднему за {state.hn} мес. (прибор № {meter.serial_number}): {values}"
            )
    return "; ".join(texts + [_tail(c, unit)])


def _common_house(c, unit, area, period) -> str:
    d = c.details or {}
    total = Decimal(d.get("total_area") or 0)
    tail = f" × {num(c.tariff, 2)} ₽ = {format_rub(c.amount)}"
    flat = area if area is not None else Decimal(0)
    if c.method == Charge.Method.COMMON_HOUSE_METER and "building_volume" in d:
        common = Decimal(d.get("common_volume") or 0)
        text = (
            f"ОДН {num(Decimal(d['building_volume']))} {unit} − индивидуальное "
            f"{num(Decimal(d['individual_volume']))} {unit} = {num(common)} {unit}; "
            f"× {num(flat, 2)} м² / {num(total, 2)} м² = "
        )
        uncapped = area_share(common, flat_area=flat, total_area=total) if total else c.volume
        if c.volume < uncapped:
            return (
                f"{text}{num(uncapped, 6)} {unit}; ограничено нормативом: {num(c.volume, 6)} "
                f"{unit}{tail}"
            )
        return f"{text}{num(c.volume, 6)} {unit}{tail}"
    common_area = Decimal(d.get("common_area") or 0)
    return (
        f"по нормативу ОДН: {num(c.norm or 0, 4)} {unit}/м² × {num(common_area, 2)} м² × "
        f"{num(flat, 2)} м² / {num(total, 2)} м² = {num(c.volume, 6)} {unit}{tail}"
    )
