"""Reads of meters and readings for pages, exports and reminders, in a bounded number of queries."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from kvartplata.meters.models import Meter, Reading
from kvartplata.meters.services import initial_point, reading_point
from kvartplata.meters.validation import consumption, unit_of, verification_state
from kvartplata.registry.models import Organization, PersonalAccount
from kvartplata.registry.vocabulary import Zone


def zone_labels(zones: int) -> list[str]:
    if zones == 1:
        return [""]
    return [str(Zone(z).label) for z in range(1, zones + 1)]


@dataclass
class MeterRow:
    """A meter with what the account page shows of it."""

    meter: Meter
    last: Reading | None
    verification: str
    unit: str
    zones: list[str]
    history: list["HistoryRow"] = field(default_factory=list)

    @property
    def last_values(self) -> list[Decimal]:
        return list(reading_point(self.last, self.meter).values) if self.last else []


@dataclass
class HistoryRow:
    """An accepted reading of a month and the consumption since the previous one."""

    month: date
    values: list[Decimal]
    consumption: list[Decimal | None]
    reading: Reading | None

    @property
    def is_initial(self) -> bool:
        return self.reading is None


def _accepted_prefetch() -> Prefetch:
    return Prefetch(
        "readings",
        queryset=Reading.objects.filter(is_accepted=True).order_by("month"),
        to_attr="accepted_readings",
    )


def _history(meter: Meter, readings: list[Reading]) -> list[HistoryRow]:
    """Newest first; the last row is the initial state at installation."""
    start = initial_point(meter)
    rows = [HistoryRow(month=start.month, values=list(start.values), consumption=[], reading=None)]
    previous = start
    for reading in readings:
        point = reading_point(reading, meter)
        used = [
            consumption(v, p, digits=meter.digits)
            for v, p in zip(point.values, previous.values, strict=False)
        ]
        rows.append(
            HistoryRow(
                month=point.month, values=list(point.values), consumption=used, reading=reading
            )
        )
        previous = point
    rows.reverse()
    return rows


def account_meters(
    *, account: PersonalAccount, today: date, with_history: bool = True
) -> list[MeterRow]:
    """Meters of an account (working ones first) with last accepted readings: two queries."""
    meters = (
        Meter.objects.filter(account=account)
        .prefetch_related(_accepted_prefetch())
        .order_by("archived_on", "resource", "serial_number")
    )
    rows = []
    for meter in meters:
        readings = meter.accepted_readings
        rows.append(
            MeterRow(
                meter=meter,
                last=readings[-1] if readings else None,
                verification=verification_state(meter, today=today),
                unit=unit_of(meter.resource),
                zones=zone_labels(meter.zones),
                history=_history(meter, readings) if with_history else [],
            )
        )
    # Working meters first; archived ones after, for the record.
    rows.sort(key=lambda r: r.meter.is_archived)
    return rows


def meter_of_account(*, account: PersonalAccount, meter_id: int, today: date) -> MeterRow | None:
    meter = (
        Meter.objects.filter(account=account, pk=meter_id)
        .prefetch_related(_accepted_prefetch())
        .first()
    )
    if meter is None:
        return None
    readings = meter.accepted_readings
    return MeterRow(
        meter=meter,
        last=readings[-1] if readings else None,
        verification=verification_state(meter, today=today),
        unit=unit_of(meter.resource),
        zones=zone_labels(meter.zones),
        history=_history(meter, readings),
    )


def meter_history_rows(*, meter: Meter) -> list[HistoryRow]:
    readings = list(meter.readings.filter(is_accepted=True).order_by("month"))
    return _history(meter, readings)


def account_month_readings(*, account: PersonalAccount, month: date) -> dict[int, Reading]:
    """The accepted readings of a month by meter id (to show what was already submitted)."""
    rows = Reading.objects.filter(meter__account=account, month=month, is_accepted=True)
    return {r.meter_id: r for r in rows}


def accounts_without_readings(*, organization: Organization, month: date) -> QuerySet:
    """Open accounts with a working meter that has no accepted reading for the month."""
    missing = Meter.objects.filter(account=OuterRef("pk"), archived_on__isnull=True).exclude(
        Exists(Reading.objects.filter(meter=OuterRef("pk"), month=month, is_accepted=True))
    )
    return (
        PersonalAccount.objects.filter(organization=organization, closed_on__isnull=True)
        .filter(Exists(missing))
        .select_related("premises__building")
        .order_by("premises__building__street", "premises__building__house", "number")
    )


def readings_for_export(*, organization: Organization, month: date) -> QuerySet:
    """Accepted readings of flat meters of an organization for a month, in file order."""
    return (
        Reading.objects.filter(
            meter__account__organization=organization, month=month, is_accepted=True
        )
        .select_related("meter__account")
        .order_by("meter__account__number", "meter__resource", "meter__serial_number")
    )


def building_meters(*, organization: Organization) -> QuerySet:
    return (
        Meter.objects.filter(
            scope=Meter.Scope.BUILDING,
            building__organization=organization,
            archived_on__isnull=True,
        )
        .select_related("building")
        .order_by("building__street", "building__house", "resource")
    )
