"""Volumes of metered services by ПП РФ № 354: meter consumption, averages, norms and the choice."""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from kvartplata.lib.money import format_volume, round_money
from kvartplata.registry.vocabulary import unit_label

VOLUME_QUANT = Decimal("0.000001")

# Billing precision of each unit (places after the decimal point): a line's volume is rounded
# half-up to it *before* it is priced, stored so and printed with exactly these places, so that
# the printed volume × the printed tariff gives the printed amount on every line. kWh is billed
# to 0,01 unless a service says otherwise (`Service.volume_precision`, e.g. 0 for whole kWh);
# the other units keep their default.
UNIT_PLACES = {"m3": 3, "gcal": 4, "m2": 2, "kwh": 2, "person": 0}
# What a norm is given per, by the norm's kind (`billing.models.Norm.Kind`).
NORM_BASE_LABEL = {"per_person": "чел.", "per_area": "м²", "common_area": "м²"}

# ПП 354 пп. 59, 60: the average stands in for at most 3 periods, then the norm does.
AVERAGE_MAX_PERIODS = 3
AVERAGE_MONTHS = 6
AVERAGE_MIN_MONTHS_NEWER_METER = 3
INCREASING_COEFFICIENT = Decimal("1.5")


class ReadingDecreased(ValueError):
    """The current reading is below the previous one and the meter cannot have rolled over."""


class VolumeMethod(StrEnum):
    METER = "meter"
    AVERAGE = "average"
    NORM = "norm"
    NORM_COEFFICIENT = "norm_coefficient"


@dataclass(frozen=True)
class VolumeResult:
    """The volume of one service for one month and what it was computed from."""

    volume: Decimal
    method: VolumeMethod
    norm: Decimal | None
    coefficient: Decimal | None
    explanation: str


def round_volume(value: Decimal) -> Decimal:
    """Round a volume half-up to 6 places, the precision volumes are stored with."""
    return value.quantize(VOLUME_QUANT, rounding=ROUND_HALF_UP)


def billing_places(unit: str, override: int | None = None) -> int:
    """Places a volume of `unit` is billed and printed with; `override` is the service's own."""
    if override is not None:
        return override
    return UNIT_PLACES.get(unit, 3)


def round_billed(volume: Decimal, places: int) -> Decimal:
    """Round a volume half-up to the billing precision, before it is priced (0,0015 → 0,002)."""
    return volume.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_billed(volume: Decimal, places: int) -> str:
    """A billed volume as printed: exactly `places` places, Russian style («1,346»)."""
    return format_volume(round_billed(volume, places), places)


def line_amount(volume: Decimal, tariff: Decimal, places: int) -> tuple[Decimal, Decimal]:
    """A line's billed volume and amount: the volume rounded to its precision, × the tariff."""
    billed = round_billed(volume, places)
    return billed, round_money(billed * tariff)


def format_tariff(tariff: Decimal) -> str:
    """A tariff as printed beside a volume: its own places, at least 2 («45,67», «186,505»)."""
    exponent = tariff.normalize().as_tuple().exponent
    places = max(2, min(4, -exponent if isinstance(exponent, int) else 0))
    return format_volume(tariff, places)


def norm_unit_label(unit: str, kind: str) -> str:
    """The unit of a norm: «м³/чел.» per resident, «Гкал/м²» per m² (heating, common needs)."""
    base = NORM_BASE_LABEL.get(kind)
    if kind == "per_area_year":
        return f"{unit_label(unit)}/м² в год"
    return f"{unit_label(unit)}/{base}" if base else unit_label(unit)


def meter_consumption(
    previous: Decimal, current: Decimal, *, capacity_digits: int | None = None
) -> Decimal:
    """Consumption between two readings; passes the counter's maximum when its capacity is known.

    `capacity_digits` is the number of whole digits on the counter: a 5-digit counter goes from
    99999,999 to 00000,000. Whether a large rollover is plausible is for the caller to judge.
    """
    if previous < 0 or current < 0:
        raise ValueError("Показание прибора учёта не может быть отрицательным.")
    if current >= previous:
        return current - previous
    if capacity_digits is not None:
        capacity = Decimal(10) ** capacity_digits
        if previous >= capacity:
            raise ValueError(
                f"Показание {format_volume(previous)} больше разрядности счётчика "
                f"({capacity_digits} знаков)."
            )
        return capacity - previous + current
    raise ReadingDecreased(
        f"Текущее показание {format_volume(current)} меньше предыдущего {format_volume(previous)}."
    )


def replaced_meter_consumption(
    old_previous: Decimal, old_final: Decimal, new_initial: Decimal, new_current: Decimal
) -> Decimal:
    """Consumption of a month in which the meter was replaced: the sum over both meters."""
    return meter_consumption(old_previous, old_final) + meter_consumption(new_initial, new_current)


def average_monthly(consumptions: list[Decimal], *, newer_meter: bool) -> Decimal | None:
    """Average monthly consumption over the last 6 months with readings (ПП 354 п. 59).

    `consumptions` are the monthly volumes of the months with readings, oldest first. A meter
    that has worked less than 6 months (`newer_meter`) may be averaged over 3 to 5 months.
    None when there are too few months: the norm applies instead.
    """
    needed = AVERAGE_MIN_MONTHS_NEWER_METER if newer_meter else AVERAGE_MONTHS
    if len(consumptions) < needed:
        return None
    last = consumptions[-AVERAGE_MONTHS:]
    return round_volume(sum(last, Decimal(0)) / len(last))


def increasing_coefficient(
    rates: list[tuple[str, datetime.date, Decimal]], resource: str, month: datetime.date
) -> Decimal:
    """The increasing coefficient of a resource for a month: the latest (resource, from, value)
    in force on the month's first day; 1 where none is (the rules do not apply it).

    The month's first day decides, so a change within a month (cold water 3 from 6 December
    2025) applies from the next month: a month is billed at one coefficient, never raised
    retroactively for the days before the change.
    """
    found = Decimal(1)
    start = None
    for r, valid_from, value in rates:
        if r == resource and valid_from <= month and (start is None or valid_from > start):
            found, start = value, valid_from
    return found


def norm_volume(
    norm: Decimal,
    *,
    residents: int | None = None,
    area: Decimal | None = None,
    coefficient: Decimal = Decimal(1),
) -> Decimal:
    """Volume by the norm: per resident, or per m² (heating); exactly one base is given."""
    return round_volume(norm * _norm_base(residents, area) * coefficient)


def tko_by_area(area: Decimal, norm_per_year: Decimal, tariff: Decimal) -> Decimal:
    """Monthly waste collection charge by area (ПП 354 formula 9(2)): P = S × N / 12 × T."""
    return round_money(area * norm_per_year * tariff / 12)


def choose_volume(
    *,
    reading_volume: Decimal | None,
    months_without_readings: int,
    average: Decimal | None,
    norm: Decimal,
    residents: int | None = None,
    area: Decimal | None = None,
    meter_exists: bool = True,
    meter_valid: bool = True,
    coefficient: Decimal = INCREASING_COEFFICIENT,
    average_months: int | None = None,
    readings: tuple[Decimal, Decimal] | None = None,
    unit: str = "м³",
) -> VolumeResult:
    """Volume of one meter-billed service for one month, by the rules of ПП 354 пп. 42, 59, 60.

    * `reading_volume`: consumption from the accepted readings of the month, or None.
    * `months_without_readings`: how many periods in a row right before this one were billed
      without readings (by average, or by norm when there was no average). With 0, 1 or 2 the
      average is used; with 3 or more (the 4th period on) the norm.
    * `meter_valid`: False for a broken meter or one past its verification date. The caller
      passes True for an electricity meter past verification, whose readings are still used.
    * `coefficient`: the increasing coefficient of the resource (`increasing_coefficient`) for
      an invalid meter when no average stands in (after 3 periods, or with no history at all)
      and for a missing meter that could be installed; pass 1 to disable it.
    * `average_months`, `readings` (previous, current) and `unit` only enrich the explanation.
    """
    if not meter_exists:
        return _by_norm(norm, residents, area, coefficient, unit)
    if meter_valid and reading_volume is not None:
        return VolumeResult(
            volume=reading_volume,
            method=VolumeMethod.METER,
            norm=None,
            coefficient=None,
            explanation=_meter_explanation(reading_volume, readings, unit),
        )
    if months_without_readings < AVERAGE_MAX_PERIODS:
        if average is not None:
            return VolumeResult(
                volume=average,
                method=VolumeMethod.AVERAGE,
                norm=None,
                coefficient=None,
                explanation=_average_explanation(average, average_months, unit),
            )
        # No history to average. A working meter whose readings did not come: the plain norm
        # (п. 59(1)). A broken or unverified meter: the norm × the coefficient at once (п. 60
        # read with п. 59(1): the average is what the 3 periods allow, and with no average
        # there is nothing to stand in for the meter but the norm that applies without one).
        return _by_norm(norm, residents, area, Decimal(1) if meter_valid else coefficient, unit)
    if meter_valid:
        # A working meter whose owner stopped sending readings: the plain norm (п. 60).
        return _by_norm(norm, residents, area, Decimal(1), unit)
    return _by_norm(norm, residents, area, coefficient, unit)


def spread_late_consumption(
    total: Decimal, estimated_months: int, places: int
) -> tuple[Decimal, Decimal]:
    """Readings after months billed by an estimate (ПП 354 п. 61): the consumption since the
    last reading used is spread evenly over the estimated months and this one.

    Returns (each estimated month's share, this month's volume), both at billing precision:
    the share is total / (months + 1) to 6 places, then half-up to the precision; this month
    takes the rest, never below zero. The estimated months are recalculated by their share.
    """
    share = round_billed(round_volume(total / (estimated_months + 1)), places)
    rest = total - share * estimated_months
    return share, round_billed(rest, places) if rest > 0 else Decimal(0)


def combine_meters(results: list[VolumeResult], places: int) -> VolumeResult:
    """One account's volume of a resource measured by several meters (ПП 354 п. 42).

    By readings and averages the meters' volumes, each at billing precision, add up. When any
    meter falls back to the norm, the norm — which is per flat, not per meter — bills the
    whole account (× the coefficient when that meter's norm carries it), and every meter's
    month counts as estimated.
    """
    norms = [r for r in results if r.method in (VolumeMethod.NORM, VolumeMethod.NORM_COEFFICIENT)]
    if norms:
        chosen = max(norms, key=lambda r: (r.coefficient or Decimal(1), r.volume))
        return VolumeResult(
            volume=round_billed(chosen.volume, places),
            method=chosen.method,
            norm=chosen.norm,
            coefficient=chosen.coefficient,
            explanation=chosen.explanation,
        )
    volume = sum((round_billed(r.volume, places) for r in results), Decimal(0))
    method = (
        VolumeMethod.AVERAGE
        if any(r.method == VolumeMethod.AVERAGE for r in results)
        else VolumeMethod.METER
    )
    return VolumeResult(
        volume=volume,
        method=method,
        norm=None,
        coefficient=None,
        explanation="; ".join(r.explanation for r in results),
    )


def _by_norm(
    norm: Decimal, residents: int | None, area: Decimal | None, coefficient: Decimal, unit: str
) -> VolumeResult:
    volume = norm_volume(norm, residents=residents, area=area, coefficient=coefficient)
    base = f"{residents} чел." if residents is not None else f"{_format_number(area, 2)} м²"
    if coefficient == 1:
        return VolumeResult(
            volume=volume,
            method=VolumeMethod.NORM,
            norm=norm,
            coefficient=None,
            explanation=(
                f"по нормативу: {base} × {_format_number(norm, 3)} {unit} = "
                f"{_format_number(volume, 3)} {unit}"
            ),
        )
    factor = _format_number(coefficient, 1)
    return VolumeResult(
        volume=volume,
        method=VolumeMethod.NORM_COEFFICIENT,
        norm=norm,
        coefficient=coefficient,
        explanation=(
            f"по нормативу с повышающим коэффициентом {factor}: {base} × "
            f"{_format_number(norm, 3)} {unit} × {factor} = {_format_number(volume, 3)} {unit}"
        ),
    )


def _norm_base(residents: int | None, area: Decimal | None) -> Decimal:
    if (residents is None) == (area is None):
        raise ValueError("Для расчёта по нормативу укажите либо число проживающих, либо площадь.")
    return Decimal(residents) if residents is not None else area


def _meter_explanation(volume: Decimal, readings: tuple[Decimal, Decimal] | None, unit: str) -> str:
    if readings is not None and readings[1] >= readings[0]:
        previous, current = readings
        return (
            f"по показаниям: {format_volume(current)} − {format_volume(previous)} = "
            f"{_format_number(volume, 3)} {unit}"
        )
    return f"по показаниям: {_format_number(volume, 3)} {unit}"


def _average_explanation(volume: Decimal, months: int | None, unit: str) -> str:
    period = f"за {months} мес." if months else "за прошлые месяцы"
    return f"по среднему {period}: {_format_number(volume, 3)} {unit}"


def _format_number(value: Decimal, min_places: int) -> str:
    # Norms have 3–4 places and shares up to 6: show what is there, but not fewer than usual.
    exponent = value.normalize().as_tuple().exponent
    places = max(min_places, min(6, -exponent if isinstance(exponent, int) else 0))
    return format_volume(value, places)
