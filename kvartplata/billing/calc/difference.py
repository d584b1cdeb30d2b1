"""Why a bill changed: a month's amount against the previous issued month, split into causes.

Pure: the facts of both months go in (lines, recalculations, penalties, the debt carried over,
payments), a list of causes in roubles comes out. The causes of a service always sum to the
change of that service's amount to the kopeck, and all causes sum to the change of the total due:
every split is computed first for the parts that have a rule (the tariff effect is the old volume
× the tariff change, rounded half-up), and the last part of a service is the remainder, so no
kopeck is lost or invented by rounding.

Per service, in this order:
* a service that is new this month, or gone, is one cause: its whole amount;
* individual lines (per zone): the tariff change at the old volume (the whole change when
  the volume, method and coefficient stay the same), then the rest of the change,
  named by what moved — the method (meter → average → norm), the increasing coefficient, the
  number of residents (the volume of a per-person line), the area (of an area line), or the
  volume;
* common-house lines: the tariff change at the old volume (as above), then the rest: the
  change of the house's volume or of its distribution;
* recalculations: each recalculation booked this month is its own cause; those booked the month
  before do not repeat, which is a cause of its own (− their sum).
Then the penalties of the month against the previous month's, and, for the total due, the debt
carried over from earlier months (which is where payments received after the previous receipt
show).
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from kvartplata.lib.money import format_rub, format_volume, round_money
from kvartplata.lib.periods import MONTH_NAMES_GENITIVE, period_label

ZERO = Decimal(0)

# Charge methods (the values of billing.models.Charge.Method), kept as plain strings here so
# that the rule stays free of the ORM.
METER = "meter"
AVERAGE = "average"
NORM = "norm"
NORM_COEFFICIENT = "norm_coefficient"
AREA = "area"
PERSON = "person"
INDIVIDUAL = "individual"
COMMON_HOUSE = "common_house"


class Cause(StrEnum):
    NEW_SERVICE = "new_service"
    REMOVED_SERVICE = "removed_service"
    TARIFF = "tariff"
    METHOD = "method"
    COEFFICIENT = "coefficient"
    RESIDENTS = "residents"
    AREA = "area"
    VOLUME = "volume"
    COMMON_HOUSE = "common_house"
    RECALCULATION = "recalculation"
    RECALCULATION_GONE = "recalculation_gone"
    PENALTY = "penalty"
    DEBT = "debt"


@dataclass(frozen=True)
class Line:
    """One charge line of a month, as the run stored it."""

    service: str
    amount: Decimal
    volume: Decimal = ZERO
    tariff: Decimal = ZERO
    method: str = METER
    kind: str = INDIVIDUAL
    zone: int = 0
    coefficient: Decimal | None = None
    unit: str = ""


@dataclass(frozen=True)
class Recalculation:
    service: str
    amount: Decimal
    concerns_month: date
    reason: str = ""


@dataclass(frozen=True)
class Payment:
    paid_on: date
    amount: Decimal


@dataclass(frozen=True)
class Month:
    """The facts of an issued month of an account that its bill is made of."""

    month: date
    lines: Sequence[Line] = ()
    recalculations: Sequence[Recalculation] = ()
    penalties: Decimal = ZERO
    # Debt (+) or advance (−) carried into the month: earlier bills less every payment so far.
    carried: Decimal = ZERO
    # Payments received since the previous bill (they are already inside `carried`).
    payments: Sequence[Payment] = ()
    # (service, date) of the meters whose verification date had passed by the month: their
    # readings are not used, the service is billed by the average, then by the norm × coefficient.
    expired: Sequence[tuple[str, date]] = ()

    @property
    def bill(self) -> Decimal:
        """The month's own amount: lines, recalculations and penalties."""
        return (
            sum((line.amount for line in self.lines), ZERO)
            + sum((r.amount for r in self.recalculations), ZERO)
            + self.penalties
        )

    @property
    def total_due(self) -> Decimal:
        return self.carried + self.bill


@dataclass(frozen=True)
class Part:
    """One cause of the change, in roubles (+ the bill grew, − it fell)."""

    cause: Cause
    amount: Decimal
    service: str | None = None
    old: object = None
    new: object = None
    unit: str = ""
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Difference:
    previous: Month
    current: Month
    parts: tuple[Part, ...]

    @property
    def bill_change(self) -> Decimal:
        return self.current.bill - self.previous.bill

    @property
    def total_change(self) -> Decimal:
        return self.current.total_due - self.previous.total_due

    def by_service(self) -> list[tuple[str | None, Decimal, list[Part]]]:
        """Services (None: penalties and debt) with their change, the largest change first."""
        groups: dict[str | None, list[Part]] = defaultdict(list)
        for part in self.parts:
            groups[part.service].append(part)
        rows = [
            (service, sum((p.amount for p in parts), ZERO), parts)
            for service, parts in groups.items()
        ]
        rows.sort(key=lambda row: (-abs(row[1]), row[0] or ""))
        return rows


def decompose(previous: Month, current: Month) -> Difference:
    """Split the change from the previous month's bill to this month's into causes."""
    parts: list[Part] = []
    old_lines = _group(previous.lines)
    new_lines = _group(current.lines)
    expired = dict(current.expired)
    for service in sorted(set(old_lines) | set(new_lines)):
        parts.extend(
            _service_parts(
                service,
                old_lines.get(service, []),
                new_lines.get(service, []),
                current.month,
                expired.get(service),
            )
        )
    parts.extend(_recalculation_parts(previous.recalculations, current.recalculations))
    if current.penalties != previous.penalties:
        parts.append(
            Part(
                Cause.PENALTY,
                current.penalties - previous.penalties,
                old=previous.penalties,
                new=current.penalties,
            )
        )
    if current.carried != previous.carried:
        parts.append(
            Part(
                Cause.DEBT,
                current.carried - previous.carried,
                old=previous.carried,
                new=current.carried,
                extra={"payments": tuple(current.payments)},
            )
        )
    return Difference(previous=previous, current=current, parts=tuple(p for p in parts if p.amount))


def _group(lines: Iterable[Line]) -> dict[str, list[Line]]:
    groups: dict[str, list[Line]] = defaultdict(list)
    for line in lines:
        groups[line.service].append(line)
    return groups


def _sum(lines: Iterable[Line]) -> Decimal:
    return sum((line.amount for line in lines), ZERO)


def _service_parts(
    service: str, old: list[Line], new: list[Line], month: date, expired: date | None = None
) -> list[Part]:
    if not old:
        return [Part(Cause.NEW_SERVICE, _sum(new), service=service)]
    if not new:
        return [Part(Cause.REMOVED_SERVICE, -_sum(old), service=service)]
    parts: list[Part] = []
    old_individual = _by_zone(line for line in old if line.kind == INDIVIDUAL)
    new_individual = _by_zone(line for line in new if line.kind == INDIVIDUAL)
    zones = sorted(set(old_individual) | set(new_individual))
    for zone in zones:
        zone_parts = _individual_parts(
            service, old_individual.get(zone), new_individual.get(zone), month, expired
        )
        if len(zones) > 1:
            # Several zones (day/night): each sentence says which.
            for part in zone_parts:
                part.extra["zone"] = zone
        parts.extend(zone_parts)
    parts.extend(
        _common_parts(
            service,
            [line for line in old if line.kind != INDIVIDUAL],
            [line for line in new if line.kind != INDIVIDUAL],
            month,
        )
    )
    return parts


def _common_parts(service: str, old: list[Line], new: list[Line], month: date) -> list[Part]:
    """The common-house lines: the tariff change at the old volume, then the rest."""
    change = _sum(new) - _sum(old)
    if not change:
        return []
    old_volume = sum((line.volume for line in old), ZERO)
    new_volume = sum((line.volume for line in new), ZERO)
    unit = next((line.unit for line in new), "")
    parts: list[Part] = []
    tariff_effect = ZERO
    old_tariffs = {line.tariff for line in old}
    new_tariffs = {line.tariff for line in new}
    if len(old_tariffs) == 1 and len(new_tariffs) == 1 and old_tariffs != new_tariffs:
        (old_tariff,), (new_tariff,) = old_tariffs, new_tariffs
        # The same volume: the whole change is the tariff's (no kopeck left to rounding).
        tariff_effect = (
            change
            if old_volume == new_volume
            else round_money(old_volume * (new_tariff - old_tariff))
        )
        parts.append(
            Part(
                Cause.TARIFF,
                tariff_effect,
                service=service,
                old=old_tariff,
                new=new_tariff,
                unit=unit,
                extra={"since": month, "common": True},
            )
        )
    rest = change - tariff_effect
    if rest:
        parts.append(
            Part(
                Cause.COMMON_HOUSE,
                rest,
                service=service,
                old=old_volume,
                new=new_volume,
                unit=unit,
            )
        )
    return parts


def _by_zone(lines: Iterable[Line]) -> dict[int, Line]:
    """One line per zone (the database keeps them unique; two would be summed)."""
    zones: dict[int, Line] = {}
    for line in lines:
        same = zones.get(line.zone)
        if same is not None:
            line = replace(same, amount=same.amount + line.amount, volume=same.volume + line.volume)
        zones[line.zone] = line
    return zones


def _individual_parts(
    service: str, old: Line | None, new: Line | None, month: date, expired: date | None = None
) -> list[Part]:
    if old is None or new is None:
        # A zone that appeared or went (a two-zone meter replaced a single one): its volume.
        line = new or old
        amount = new.amount if new else -old.amount
        return [
            Part(
                Cause.VOLUME,
                amount,
                service=service,
                old=old.volume if old else ZERO,
                new=new.volume if new else ZERO,
                unit=line.unit,
            )
        ]
    change = new.amount - old.amount
    parts: list[Part] = []
    tariff_effect = ZERO
    if new.tariff != old.tariff:
        same = (
            new.volume == old.volume
            and new.method == old.method
            and _coefficient(new) == _coefficient(old)
        )
        # The same volume, method and coefficient: the whole change is the tariff's (the
        # line's own rounding leaves no kopeck to explain apart).
        tariff_effect = (
            change
            if same
            else round_money(old.volume * _coefficient(old) * (new.tariff - old.tariff))
        )
        parts.append(
            Part(
                Cause.TARIFF,
                tariff_effect,
                service=service,
                old=old.tariff,
                new=new.tariff,
                unit=new.unit,
                extra={"since": month},
            )
        )
    rest = change - tariff_effect
    if not rest:
        return parts
    if new.method != old.method:
        cause, before, after = Cause.METHOD, old.method, new.method
    elif _coefficient(new) != _coefficient(old):
        cause, before, after = Cause.COEFFICIENT, _coefficient(old), _coefficient(new)
    elif new.method == PERSON and new.volume != old.volume:
        # A per-person line's volume is the number of residents billed.
        cause, before, after = Cause.RESIDENTS, int(old.volume), int(new.volume)
    elif new.method == AREA and new.volume != old.volume:
        cause, before, after = Cause.AREA, old.volume, new.volume
    else:
        cause, before, after = Cause.VOLUME, old.volume, new.volume
    extra = {"old_volume": old.volume, "new_volume": new.volume}
    if expired and cause in (Cause.METHOD, Cause.COEFFICIENT) and new.method != METER:
        # The meter's readings are not used because its verification date passed.
        extra["expired_on"] = expired
    parts.append(
        Part(cause, rest, service=service, old=before, new=after, unit=new.unit, extra=extra)
    )
    return parts


def _coefficient(line: Line) -> Decimal:
    return line.coefficient if line.coefficient else Decimal(1)


def _recalculation_parts(old: Sequence[Recalculation], new: Sequence[Recalculation]) -> list[Part]:
    parts = [
        Part(
            Cause.RECALCULATION,
            item.amount,
            service=item.service,
            extra={"month": item.concerns_month, "reason": item.reason},
        )
        for item in new
    ]
    gone: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for item in old:
        gone[item.service] -= item.amount
    parts.extend(
        Part(Cause.RECALCULATION_GONE, amount, service=service)
        for service, amount in sorted(gone.items())
    )
    return parts


METHOD_WORDS = {
    METER: "по показаниям счётчика",
    AVERAGE: "по среднему",
    NORM: "по нормативу",
    NORM_COEFFICIENT: "по нормативу с повышающим коэффициентом",
    AREA: "по площади",
    PERSON: "по числу проживающих",
}

# What the resident can do when the estimate method is the cause.
ADVICE = {
    AVERAGE: "передайте показания счётчика до 25-го числа, и начисление пересчитают",
    NORM: "передайте показания счётчика до 25-го числа",
    NORM_COEFFICIENT: "поверьте или замените счётчик и передайте показания",
}


def signed_rub(amount: Decimal) -> str:
    """«+812,40 ₽», «−15,00 ₽»: a change always carries its sign."""
    text = format_rub(amount)
    return text if amount < 0 else f"+{text}"


def describe(part: Part) -> str:
    """One plain sentence on one cause, for a resident who is not an accountant."""
    money = signed_rub(part.amount)
    unit = f" {part.unit}" if part.unit else ""
    match part.cause:
        case Cause.NEW_SERVICE:
            return f"новая услуга в квитанции: {money}"
        case Cause.REMOVED_SERVICE:
            return f"услуга больше не начисляется: {money}"
        case Cause.TARIFF:
            since = part.extra.get("since")
            when = f" с 1 {MONTH_NAMES_GENITIVE[since.month - 1]}" if since else ""
            share = ""
            if part.old:
                percent = (part.new - part.old) * 100 / part.old
                share = f", {'+' if percent > 0 else '−'}{format_volume(abs(percent), 1)} %"
            what = "тариф на общедомовые нужды" if part.extra.get("common") else "тариф"
            what += _zone(part)
            return (
                f"{what}{when}: {format_volume(part.new, 2)} ₽ вместо "
                f"{format_volume(part.old, 2)} ₽{share} — {money}"
            )
        case Cause.METHOD:
            text = (
                f"начислено {METHOD_WORDS.get(part.new, part.new)} вместо "
                f"{_instead(part.old)} — {money}"
            )
            expired = part.extra.get("expired_on")
            if expired:
                return f"{_expired(expired)} — {text}; {EXPIRED_ADVICE}"
            why = MISSING_READINGS.get((part.old, part.new))
            if why:
                text = f"{why} — {text}"
            advice = ADVICE.get(part.new)
            return f"{text}; {advice}" if advice else text
        case Cause.COEFFICIENT:
            text = (
                f"повышающий коэффициент {format_volume(_coef(part.new), 1)} вместо "
                f"{format_volume(_coef(part.old), 1)} — {money}"
            )
            expired = part.extra.get("expired_on")
            return f"{_expired(expired)} — {text}; {EXPIRED_ADVICE}" if expired else text
        case Cause.RESIDENTS:
            return f"проживающих {part.new} чел. вместо {part.old} — {money}"
        case Cause.AREA:
            return (
                f"площадь {format_volume(part.new, 2)} м² вместо "
                f"{format_volume(part.old, 2)} м² — {money}"
            )
        case Cause.VOLUME:
            return (
                f"расход{_zone(part)} {format_volume(part.new)}{unit} вместо "
                f"{format_volume(part.old)}{unit} — {money}"
            )
        case Cause.COMMON_HOUSE:
            return (
                f"общедомовые нужды: {format_volume(part.new)}{unit} вместо "
                f"{format_volume(part.old)}{unit} — {money}"
            )
        case Cause.RECALCULATION:
            month = part.extra.get("month")
            reason = part.extra.get("reason") or ""
            about = f" за {period_label(month)}" if month else ""
            why = f" ({reason})" if reason else ""
            return f"перерасчёт{about}{why}: {money}"
        case Cause.RECALCULATION_GONE:
            return f"перерасчёт прошлого месяца в этот раз не повторяется: {money}"
        case Cause.PENALTY:
            return f"пени {format_rub(part.new)} вместо {format_rub(part.old)}: {money}"
        case Cause.DEBT:
            payments = part.extra.get("payments") or ()
            paid = "; ".join(
                f"оплата от {p.paid_on:%d.%m} на {format_rub(p.amount)} учтена" for p in payments
            )
            if part.new > 0:
                state = f"долг с прошлых месяцев {format_rub(part.new)}"
            elif part.new < 0:
                state = f"аванс {format_rub(-part.new)}"
            else:
                state = "долга с прошлых месяцев нет"
            return f"{state} ({paid}): {money}" if paid else f"{state}: {money}"
    return money


EXPIRED_ADVICE = "поверьте счётчик и передайте показания"
# Why the method changed when no meter expired: the readings did not come (the average is used
# for at most 3 months in a row, then the norm).
MISSING_READINGS = {
    (METER, AVERAGE): "показания счётчика за месяц не поступили",
    (AVERAGE, NORM): "показания счётчика не поступают больше 3 месяцев",
}
ZONE_WORDS = {1: "день", 2: "ночь", 3: "пик"}


def _zone(part: Part) -> str:
    zone = part.extra.get("zone")
    return f" ({ZONE_WORDS[zone]})" if zone in ZONE_WORDS else ""


def _expired(day: date) -> str:
    return f"срок поверки счётчика истёк {day:%d.%m.%Y}"


def _instead(method: object) -> str:
    words = {
        METER: "показаний счётчика",
        AVERAGE: "среднего",
        NORM: "норматива",
        NORM_COEFFICIENT: "норматива с коэффициентом",
        AREA: "площади",
        PERSON: "числа проживающих",
    }
    return words.get(method, str(method))


def _coef(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(1)


def headline(difference: Difference) -> str:
    """«Сумма выросла на 1 234,56 ₽» — the first words a resident reads."""
    change = difference.total_change
    if change > 0:
        return f"Сумма к оплате выросла на {format_rub(change)}"
    if change < 0:
        return f"Сумма к оплате уменьшилась на {format_rub(-change)}"
    return "Сумма к оплате не изменилась"
