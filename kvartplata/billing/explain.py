"""How a charge line came about, in words and numbers, composed when a page shows it.

The billing run writes lines set-based in SQL and keeps no text: the numbers of the line, of the
meter's state after the run (`MeterState`) and of the building (the line's details) say it all.
Every volume is printed with its unit's billing precision (`calc.volumes.billing_places`), the
very volume the line was priced at, so that the printed volume × tariff gives the amount. Lines
of older runs may still carry their text in `details["explanation"]`.
"""

from decimal import Decimal

from kvartplata.billing.calc.common_house import area_share
from kvartplata.billing.calc.volumes import (
    format_tariff,
    norm_unit_label,
    round_billed,
    round_volume,
    unit_label,
)
from kvartplata.billing.models import (
    HISTORY_SLOTS,
    Charge,
    MeterState,
    Recalculation,
    Resource,
    Service,
    history_column,
)
from kvartplata.billing.setbased import from_micro

# One number formatter for the whole project (lib.money); a short name for the long sentences.
from kvartplata.lib.db import Select
from kvartplata.lib.money import format_rub
from kvartplata.lib.money import format_volume as num
from kvartplata.lib.periods import add_months, period_label
from kvartplata.meters.models import Meter
from kvartplata.registry.models import Period

WATER = (Resource.COLD_WATER, Resource.HOT_WATER)


# The reads of every charges page, written once (lib.db.Select).
_FLAT_METERS = Select.of(Meter, "account_id = %s AND scope = %s AND resource IN ({resources})")
_STATES = Select.joined(
    [(MeterState, "s"), (Period, "p")],
    f"FROM {MeterState._meta.db_table} s JOIN {Period._meta.db_table} p"  # noqa: S608
    " ON p.id = s.period_id WHERE s.meter_id IN ({meters}) AND p.organization_id = %s"
    " AND p.month IN (%s, %s)",
)


def attach(charges: list[Charge], account, period: Period) -> None:
    """Compose the explanation of every line of one account and month (at most 4 queries).

    Readings that arrive after months billed by an estimate are explained from stored facts:
    the meter states of those months (what each was billed), this month's state (the share
    each month gets now) and the recalculations the run booked for them.
    """
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
            for m in _FLAT_METERS.instances(
                [account.id, Meter.Scope.FLAT, *resources], resources=len(resources)
            )
        }
        prev_month = add_months(period.month, -1)
        if meters:
            for s, state_period in _STATES.instances_joined(
                [*meters, period.organization_id, prev_month, period.month], meters=len(meters)
            ):
                s.period = state_period
                (states if s.period.month == period.month else previous)[s.meter_id] = s
    late = _late_facts(account, period, states, previous)
    water: dict[str, Decimal] = {}
    for c in charges:
        individual = c.kind == Charge.Kind.INDIVIDUAL
        if individual and c.service.method == Service.Method.METER and c.service.resource in WATER:
            water[c.service.resource] = water.get(c.service.resource, Decimal(0)) + plain_volume(c)
    area = account.area if account.premises.total_area is not None else None
    for c in missing:
        c._explanation = _text(c, states, previous, meters, water, area, period, late)


def _tail(c: Charge, unit: str) -> str:
    volume = num(c.volume, c.service.places)
    return f"{volume} {unit} × {format_tariff(c.tariff)} ₽ = {format_rub(c.amount)}"


def _residents(c: Charge) -> int:
    """The persons a norm line was billed for, from its stored volume, norm and coefficient."""
    base = c.volume / c.coefficient if c.coefficient else c.volume
    return max(int(round_volume(base / c.norm).to_integral_value()), 1)


def plain_volume(c: Charge) -> Decimal:
    """A line's volume without the increasing coefficient: what wastewater and ОДН take."""
    if c.method == Charge.Method.NORM_COEFFICIENT and c.norm:
        return round_billed(c.norm * _residents(c), c.service.places)
    return c.volume


def _late_facts(account, period: Period, states, previous) -> dict:
    """Meter states of the estimated months before late readings, and their recalculations."""
    late = [
        meter_id
        for meter_id, s in states.items()
        if s.method == "meter" and previous.get(meter_id) and previous[meter_id].gap
    ]
    if not late:
        return {}
    longest = max(previous[m].gap for m in late)
    months = {
        (s.meter_id, s.period.month): s
        for s in MeterState.objects.filter(
            meter_id__in=late,
            period__organization_id=period.organization_id,
            period__month__gte=add_months(period.month, -longest),
            period__month__lt=period.month,
        ).select_related("period")
    }
    recalculations = {
        (r.service_id, r.concerns_month): r.amount
        for r in Recalculation.objects.filter(
            account_id=account.id, period=period, source=Recalculation.Source.LATE_READINGS
        )
    }
    return {"months": months, "recalculations": recalculations}


def _late_text(c, meter_id, state, before, late, places, unit) -> str:
    """«(расход за 3 мес. поровну по 5,498 м³: август 2026 — было 8,247 м³, перерасчёт −15,07 ₽;
    …; этот месяц 5,498 м³)»: how the readings replaced the estimates of the months before."""
    zones = range(1, c.service.zones + 1)
    share_slot = HISTORY_SLOTS - 1  # the newest slot is this month; the shares come before it
    share = sum(
        (from_micro(getattr(state, history_column(z, share_slot))) for z in zones), Decimal(0)
    )
    this_month = sum((from_micro(getattr(state, f"e{z}")) for z in zones), Decimal(0))
    parts = []
    for back in range(before.gap, 0, -1):
        month = add_months(state.period.month, -back)
        then = late.get("months", {}).get((meter_id, month))
        text = period_label(month)
        if then is not None:
            billed = sum((from_micro(getattr(then, f"e{z}")) for z in zones), Decimal(0))
            text += f" — было {num(billed, places)} {unit}"
        amount = late.get("recalculations", {}).get((c.service_id, month))
        if amount:
            sign = "+" if amount > 0 else "−"
            text += f", перерасчёт {sign}{format_rub(abs(amount))}"
        parts.append(text)
    return (
        f" (расход за {before.gap + 1} мес. поровну по {num(share, places)} {unit}: "
        f"{'; '.join(parts)}; этот месяц {num(this_month, places)} {unit})"
    )


def _text(c, states, previous, meters, water, area, period, late=None) -> str:
    service = c.service
    unit = unit_label(service.unit)
    if c.kind == Charge.Kind.COMMON_HOUSE:
        return _common_house(c, unit, area, period)
    if service.method == Service.Method.WASTEWATER:
        parts = " + ".join(num(v, c.service.places) for v in water.values())
        return f"ХВС + ГВС: {parts} = {_tail(c, 'м³')}"
    if service.method == Service.Method.HEATING:
        flat = area if area is not None else (c.volume / c.norm if c.norm else Decimal(0))
        norm_unit = norm_unit_label(service.unit, "per_area")
        return (
            f"по нормативу: {num(flat, 2)} м² × {_norm(c.norm or 0)} {norm_unit} = {_tail(c, unit)}"
        )
    if c.method in (Charge.Method.NORM, Charge.Method.NORM_COEFFICIENT) and c.norm:
        norm_unit = norm_unit_label(service.unit, "per_person")
        text = f"по нормативу: {_residents(c)} чел. × {_norm(c.norm)} {norm_unit}"
        if c.coefficient:
            text += f" × {num(c.coefficient, 1)}"
        return f"{text} = {_tail(c, unit)}"
    if c.method in (Charge.Method.METER, Charge.Method.AVERAGE):
        return _metered(c, unit, states, previous, meters, late or {})
    return c.explanation


def _norm(value: Decimal) -> str:
    """A norm with the places it has, at least 3 («4,745», «0,0213»)."""
    exponent = value.normalize().as_tuple().exponent
    return num(value, max(3, min(6, -exponent if isinstance(exponent, int) else 0)))


def _reading(value: Decimal) -> str:
    """A meter reading with the places it has (3 or 4)."""
    exponent = value.normalize().as_tuple().exponent
    return num(value, max(3, min(4, -exponent if isinstance(exponent, int) else 0)))


def _metered(c, unit, states, previous, meters, late) -> str:
    zones = range(1, c.service.zones + 1)
    places = c.service.places
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
                if now >= was:
                    parts.append(f"{_reading(now)} − {_reading(was)} = {_reading(now - was)}")
                else:
                    parts.append(f"{_reading(was)} → {_reading(now)} (переход через ноль)")
            text = f"по показаниям прибора № {meter.serial_number}: {', '.join(parts)}"
            if before is not None and before.gap:
                # Readings after estimated months: the consumption was spread over them.
                text += _late_text(c, meter_id, state, before, late, places, unit)
            texts.append(text)
        elif state.method == "average":
            values = ", ".join(num(from_micro(getattr(state, f"e{z}")), places) for z in zones)
            texts.append(
                f"по среднему за {state.hn} мес. (прибор № {meter.serial_number}): {values}"
            )
    return "; ".join(texts + [_tail(c, unit)])


TARIFF_ZONE_NOTE = {0: "по одноставочному тарифу: ", 1: "по тарифу дневной зоны (T1): "}


def _common_house(c, unit, area, period) -> str:
    note = TARIFF_ZONE_NOTE.get((c.details or {}).get("tariff_zone"), "")
    return note + _common_house_volume(c, unit, area)


def _common_house_volume(c, unit, area) -> str:
    d = c.details or {}
    total = Decimal(d.get("total_area") or 0)
    flat = area if area is not None else Decimal(0)
    if c.method == Charge.Method.COMMON_HOUSE_METER and "building_volume" in d:
        common = Decimal(d.get("common_volume") or 0)
        text = (
            f"ОДН {num(Decimal(d['building_volume']))} {unit} − индивидуальное "
            f"{num(Decimal(d['individual_volume']))} {unit} = {num(common)} {unit}; "
            f"× {num(flat, 2)} м² / {num(total, 2)} м² = "
        )
        uncapped = area_share(common, flat_area=flat, total_area=total) if total else c.volume
        if round_billed(uncapped, c.service.places) > c.volume:
            return f"{text}{num(uncapped, 6)} {unit}; ограничено нормативом: {_tail(c, unit)}"
        return f"{text}{num(uncapped, 6)} {unit} ≈ {_tail(c, unit)}"
    common_area = Decimal(d.get("common_area") or 0)
    share = (
        area_share((c.norm or 0) * common_area, flat_area=flat, total_area=total)
        if total
        else c.volume
    )
    common_unit = norm_unit_label(c.service.unit, "common_area")
    return (
        f"по нормативу ОДН: {_norm(c.norm or Decimal(0))} {common_unit} "
        f"× {num(common_area, 2)} м² × {num(flat, 2)} м² / {num(total, 2)} м² = "
        f"{num(share, 6)} {unit} ≈ {_tail(c, unit)}"
    )
