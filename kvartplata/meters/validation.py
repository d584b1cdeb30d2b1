"""Pure checks of meter readings (format, range, order, plausibility, window): no ORM, no now()."""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Protocol

from kvartplata.lib.money import format_volume
from kvartplata.lib.periods import add_months, format_date, month_start, period_label
from kvartplata.registry.vocabulary import resource_unit_label

ELECTRICITY = "electricity"
REFUSE = "refuse"
NEXT_PERIOD = "next_period"
VERIFICATION_WARNING_DAYS = 30
# Months of history the average consumption is taken over.
AVERAGE_MONTHS = 12
# A reading lower than the previous one is a rollover only when the implied consumption is
# below this share of the counter's capacity; otherwise it is a typo.
ROLLOVER_SHARE = Decimal("0.1")
MAX_INPUT_LENGTH = 40

_NUMBER_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_SPACES_RE = re.compile(r"[\s\u00a0\u202f']+")


class MeterLike(Protocol):
    """What the checks need to know of a meter (a Meter row fits)."""

    resource: str
    zones: int
    digits: int
    precision: int
    serial_number: str
    archived_on: date | None
    next_verification_on: date


@dataclass(frozen=True)
class Point:
    """A known state of a meter's counter: an accepted reading or the initial values."""

    month: date
    values: tuple[Decimal, ...]


@dataclass
class Checked:
    """Outcome of the checks of one meter's submission."""

    values: list[Decimal] | None = None
    # Zone number (1..3) → message; 0 is the meter as a whole.
    errors: dict[int, str] = field(default_factory=dict)
    # Set when the consumption is implausibly high and the submitter has not confirmed it.
    needs_confirmation: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors and not self.needs_confirmation


@dataclass(frozen=True)
class WindowDecision:
    """Which month a submission made on a day belongs to, or why it is refused."""

    month: date | None
    in_window: bool
    message: str = ""

    @property
    def refused(self) -> bool:
        return self.month is None


def plain(value: Decimal) -> str:
    """A number for a file: decimal comma, no exponent, no trailing zeros, no grouping."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def fmt(value: Decimal) -> str:
    """A number as Russians read it: «3 791,8» — grouped thousands, no trailing zeros."""
    places = len(format(value, "f").partition(".")[2].rstrip("0"))
    return format_volume(value, places)


def quantize(value: Decimal, precision: int) -> Decimal:
    """A stored value (four places in the database) shown with the meter's precision.

    A value that cannot be rounded (Infinity, NaN, too many digits: whatever the database
    holds) is given back as it is; the pages show it as «—»."""
    try:
        return value.quantize(Decimal(1).scaleb(-precision))
    except InvalidOperation:
        return value


def unit_of(resource: str) -> str:
    return resource_unit_label(resource)


def capacity(digits: int) -> Decimal:
    """The value at which the counter wraps to zero: 10^digits."""
    return Decimal(10) ** digits


def parse_value(raw: str, *, precision: int, digits: int) -> tuple[Decimal | None, str]:
    """Parse a reading typed by a person; returns (value, "") or (None, message)."""
    text = (raw or "").strip()
    if not text:
        return None, "Введите показания."
    if len(text) > MAX_INPUT_LENGTH:
        return None, "Слишком длинное число: проверьте показания."
    text = _SPACES_RE.sub("", text).replace(",", ".")
    if text.startswith("+"):
        text = text[1:]
    if text.startswith("-") or text.startswith("−"):
        if _NUMBER_RE.fullmatch(text[1:]):
            return None, "Показания не могут быть отрицательными."
        return None, "Введите число, например 123,45."
    if not _NUMBER_RE.fullmatch(text):
        return None, "Введите число цифрами, например 123,45 (дробную часть — через запятую)."
    whole, _, fraction = text.partition(".")
    if len(fraction) > precision:
        if precision == 0:
            return None, "Введите целое число, без дробной части."
        return None, f"Не больше {precision} знаков после запятой."
    whole = whole.lstrip("0")
    if len(whole) > digits:
        return None, (
            f"Слишком большое число: у прибора {digits} целых разрядов, "
            f"показания меньше {fmt(capacity(digits))}."
        )
    return Decimal(text), ""


def verification_state(meter: MeterLike, *, today: date) -> str:
    """ "expired", "soon" (within 30 days) or "ok"."""
    if meter.next_verification_on < today:
        return "expired"
    if meter.next_verification_on <= today + timedelta(days=VERIFICATION_WARNING_DAYS):
        return "soon"
    return "ok"


def meter_refusal(meter: MeterLike, *, today: date) -> str:
    """Why readings of this meter are not taken at all, or ""."""
    if meter.archived_on is not None:
        return (
            f"Прибор учёта № {meter.serial_number} снят с учёта {format_date(meter.archived_on)}: "
            "показания по нему не принимаются."
        )
    # ПП № 354: readings of an electricity meter past its verification date are still used.
    if meter.resource != ELECTRICITY and meter.next_verification_on < today:
        return (
            f"Срок поверки прибора № {meter.serial_number} истёк "
            f"{format_date(meter.next_verification_on)}: показания не принимаются "
            "до новой поверки. "
            "Сдайте прибор на поверку и передайте нам документ о ней."
        )
    return ""


def consumption(current: Decimal, previous: Decimal, *, digits: int) -> Decimal:
    """Consumption between two counter values; a lower current value is a rollover."""
    if current >= previous:
        return current - previous
    return current + capacity(digits) - previous


def is_rollover(current: Decimal, previous: Decimal, *, digits: int) -> bool:
    """True when a lower value is plausibly the counter passing its maximum."""
    if current >= previous:
        return False
    return consumption(current, previous, digits=digits) < capacity(digits) * ROLLOVER_SHARE


def months_apart(earlier: date, later: date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def average_consumption(points: Sequence[Point], *, zone: int, digits: int) -> Decimal | None:
    """Average monthly consumption of a zone over the points given (sorted by month), or None."""
    usable = [p for p in points if len(p.values) > zone and p.values[zone] is not None]
    if len(usable) < 2:
        return None
    span = months_apart(usable[0].month, usable[-1].month)
    if span <= 0:
        return None
    total = sum(
        (
            consumption(b.values[zone], a.values[zone], digits=digits)
            for a, b in zip(usable, usable[1:], strict=False)
        ),
        Decimal(0),
    )
    return total / span


def history_for_average(points: Sequence[Point], *, before: date) -> list[Point]:
    """The points within the averaging horizon before a month, oldest first."""
    horizon = add_months(before, -AVERAGE_MONTHS)
    return sorted((p for p in points if horizon <= p.month < before), key=lambda p: p.month)


def check_reading(
    meter: MeterLike,
    raw_values: Sequence[str],
    *,
    month: date,
    today: date,
    previous: Point | None,
    following: Point | None = None,
    history: Sequence[Point] = (),
    alert_factor: Decimal = Decimal(3),
    confirmed: bool = False,
) -> Checked:
    """All checks of one meter's submission for a month; nothing here touches the database."""
    result = Checked()
    refusal = meter_refusal(meter, today=today)
    if refusal:
        result.errors[0] = refusal
        return result
    raw = list(raw_values)[: meter.zones]
    raw += [""] * (meter.zones - len(raw))
    values: list[Decimal] = []
    for zone, text in enumerate(raw, start=1):
        value, message = parse_value(text, precision=meter.precision, digits=meter.digits)
        if message:
            result.errors[zone] = message
        else:
            values.append(value)
    if result.errors:
        return result

    unit = unit_of(meter.resource)
    for zone, value in enumerate(values, start=1):
        prev = previous.values[zone - 1] if previous and len(previous.values) >= zone else None
        if prev is not None and value < prev and not is_rollover(value, prev, digits=meter.digits):
            result.errors[zone] = (
                f"Показания меньше предыдущих ({fmt(prev)} {unit} за "
                f"{period_label(previous.month)}). Проверьте цифры: показания не могут уменьшаться."
            )
            continue
        nxt = following.values[zone - 1] if following and len(following.values) >= zone else None
        if nxt is not None and value > nxt and not is_rollover(nxt, value, digits=meter.digits):
            result.errors[zone] = (
                f"Показания больше переданных за {period_label(following.month)} "
                f"({fmt(nxt)} {unit}): проверьте месяц и цифры."
            )
    if result.errors:
        return result

    factor = Decimal(str(alert_factor))
    if previous is not None and not confirmed and factor > 0:
        gap = max(1, months_apart(previous.month, month))
        points = history_for_average(history, before=month)
        alerts = []
        for zone, value in enumerate(values, start=1):
            prev = previous.values[zone - 1] if len(previous.values) >= zone else None
            average = average_consumption(points, zone=zone - 1, digits=meter.digits)
            if prev is None or not average:
                continue
            used = consumption(value, prev, digits=meter.digits)
            if used > average * factor * gap:
                alerts.append((zone, used, average))
        if alerts:
            zone, used, average = alerts[0]
            avg = quantize(average, meter.precision)
            result.needs_confirmation = (
                f"Расход {fmt(used)} {unit} больше среднего ({fmt(avg)} {unit} в месяц) более "
                f"чем в {fmt(factor)} раза. Проверьте показания; если они верны, отметьте "
                "«Подтверждаю показания» и отправьте ещё раз."
            )
    result.values = values
    return result


def _window_text(day_from: int, day_to: int) -> str:
    return f"с {day_from} по {day_to} число"


def reading_month(
    *, today: date, window: tuple[int, int], outside: str = NEXT_PERIOD
) -> WindowDecision:
    """The month a submission made today belongs to, by the readings window and its setting.

    Inside the window it is the current month. Before the window opens the reading is the
    current month's (the previous window has closed, the next period is this month); after it
    closes, the next month's. With the «refuse» setting anything outside the window is refused.
    """
    day_from, day_to = window
    current = month_start(today)
    if day_from <= today.day <= day_to:
        return WindowDecision(month=current, in_window=True)
    if today.day < day_from:
        opens = today.replace(day=day_from)
        target = current
    else:
        target = add_months(current, 1)
        opens = target.replace(day=day_from)
    if outside == REFUSE:
        return WindowDecision(
            month=None,
            in_window=False,
            message=(
                f"Показания принимаются {_window_text(day_from, day_to)} месяца. Сегодня приём "
                f"закрыт — передайте показания с {format_date(opens)}."
            ),
        )
    return WindowDecision(
        month=target,
        in_window=False,
        message=(
            f"Показания принимаются {_window_text(day_from, day_to)} месяца; переданные сегодня "
            f"показания учтены за {period_label(target)}."
        ),
    )


def open_month(month: date, *, closed_months: set[date] | frozenset[date]) -> date:
    """The first month from `month` on whose billing period is not closed."""
    while month in closed_months:
        month = add_months(month, 1)
    return month
