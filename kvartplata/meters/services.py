"""Writes of meters and readings: submission, staff and building entry, replacement, archive."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kvartplata.lib.periods import format_date, month_start, period_label
from kvartplata.lib.ranges import date_problem
from kvartplata.meters.models import Meter, Reading, ReminderOptOut
from kvartplata.meters.validation import (
    Point,
    check_reading,
    open_month,
    parse_value,
    quantize,
    reading_month,
)
from kvartplata.registry.models import Building, Organization, PersonalAccount
from kvartplata.registry.periods import closed_months, organization_bounds

# Two requests racing for the same meter and month: on PostgreSQL the row lock on the meter
# serializes them; should a writer slip past it, the partial unique constraint stops it and
# the whole submission is retried once the other transaction has committed.
ATTEMPTS = 3


@dataclass(frozen=True)
class ReadingEntry:
    """The raw values typed for one meter (one string per zone) and the «confirm» tick."""

    meter_id: int
    values: tuple[str, ...]
    confirm_high: bool = False

    @property
    def is_blank(self) -> bool:
        return not any((v or "").strip() for v in self.values)


@dataclass
class Submission:
    """What became of a submission: stored readings, or messages and nothing stored."""

    month: date | None = None
    notice: str = ""
    form_error: str = ""
    # (meter id, zone) → message; zone 0 is the meter as a whole.
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    # meter id → why the consumption must be confirmed.
    confirmations: dict[int, str] = field(default_factory=dict)
    readings: list[Reading] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.form_error and not self.errors and not self.confirmations

    def messages(self) -> list[str]:
        """All refusals as plain lines (for reports and the command line)."""
        lines = [self.form_error] if self.form_error else []
        lines += list(self.errors.values())
        lines += list(self.confirmations.values())
        return lines


def _values(values, precision: int) -> tuple[Decimal, ...]:
    return tuple(quantize(v if v is not None else Decimal(0), precision) for v in values)


def initial_point(meter: Meter) -> Point:
    values = _values(meter.initial_values(), meter.precision)
    return Point(month=month_start(meter.installed_on), values=values)


def reading_point(reading: Reading, meter: Meter) -> Point:
    values = [reading.value1, reading.value2, reading.value3][: meter.zones]
    return Point(month=reading.month, values=_values(values, meter.precision))


def _accepted_points(meters: Sequence[Meter]) -> dict[int, list[Point]]:
    by_meter: dict[int, list[Point]] = {m.pk: [] for m in meters}
    by_id = {m.pk: m for m in meters}
    rows = Reading.objects.filter(meter__in=[m.pk for m in meters], is_accepted=True).order_by(
        "month"
    )
    for reading in rows:
        by_meter[reading.meter_id].append(reading_point(reading, by_id[reading.meter_id]))
    return by_meter


def _neighbours(meter: Meter, points: list[Point], month: date):
    """The state before a month (a reading or the initial values) and the reading after it."""
    before = [p for p in points if p.month < month]
    after = [p for p in points if p.month > month]
    initial = initial_point(meter)
    previous = before[-1] if before else initial
    history = ([initial] if initial.month < month else []) + before
    return previous, (after[0] if after else None), history


def _organization_of(meter: Meter) -> Organization:
    if meter.account_id:
        return meter.account.organization
    return meter.building.organization


def _check_and_store(
    *,
    meters: dict[int, Meter],
    entries: Sequence[ReadingEntry],
    month: date,
    organization: Organization,
    source: str,
    user,
    today: date,
    kind: str = Reading.Kind.REGULAR,
    skip_verification: bool = False,
    now: datetime | None = None,
) -> Submission:
    """Check every entry against the locked meters and store all of them, or none."""
    result = Submission(month=month)
    points = _accepted_points(list(meters.values()))
    checked = []
    for entry in entries:
        meter = meters.get(entry.meter_id)
        if meter is None:
            result.errors[(entry.meter_id, 0)] = "Прибор учёта не найден."
            continue
        previous, following, history = _neighbours(meter, points[meter.pk], month)
        outcome = check_reading(
            meter,
            entry.values,
            month=month,
            # A final reading closes a meter whose verification has run out: check as of install.
            today=meter.installed_on if skip_verification else today,
            previous=previous,
            following=following,
            history=history,
            alert_factor=organization.consumption_alert_factor,
            confirmed=entry.confirm_high,
        )
        for zone, message in outcome.errors.items():
            result.errors[(meter.pk, zone)] = message
        if outcome.needs_confirmation:
            result.confirmations[meter.pk] = outcome.needs_confirmation
        checked.append((meter, entry, outcome.values))
    if not result.ok:
        return result

    submitted_at = now or timezone.now()
    for meter, entry, values in checked:
        # The earlier submission of the month stays on record, no longer the accepted one.
        Reading.objects.filter(meter=meter, month=month, is_accepted=True).update(is_accepted=False)
        padded = list(values) + [None] * (3 - len(values))
        result.readings.append(
            Reading.objects.create(
                meter=meter,
                month=month,
                value1=padded[0],
                value2=padded[1],
                value3=padded[2],
                kind=kind,
                source=source,
                is_accepted=True,
                confirmed_high=entry.confirm_high,
                submitted_at=submitted_at,
                submitted_by=user if getattr(user, "is_authenticated", False) else None,
            )
        )
    return result


def _atomic_with_retry(work):
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                return work()
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _closed_notice(wanted: date, month: date) -> str:
    if wanted == month:
        return ""
    return (
        f"Расчётный период {period_label(wanted)} уже закрыт, поэтому показания учтены "
        f"за {period_label(month)}."
    )


def reading_submit(
    *,
    account: PersonalAccount,
    entries: Sequence[ReadingEntry],
    user,
    today: date,
    source: str = Reading.Source.CABINET,
    now: datetime | None = None,
) -> Submission:
    """A resident's form for all meters of an account: window, checks, replace the month's."""
    building = account.premises.building
    organization = account.organization
    decision = reading_month(
        today=today,
        window=building.readings_window(),
        outside=organization.readings_outside_window,
    )
    if decision.refused:
        return Submission(form_error=decision.message)
    entries = [e for e in entries if not e.is_blank]
    if not entries:
        return Submission(
            month=decision.month, form_error="Введите показания хотя бы одного прибора."
        )

    def work() -> Submission:
        ids = sorted({e.meter_id for e in entries})
        locked = (
            Meter.objects.select_for_update().filter(account=account, pk__in=ids).order_by("pk")
        )
        meters = {m.pk: m for m in locked}
        month = open_month(decision.month, closed_months=closed_months(organization))
        result = _check_and_store(
            meters=meters,
            entries=entries,
            month=month,
            organization=organization,
            source=source,
            user=user,
            today=today,
            now=now,
        )
        result.notice = " ".join(
            n for n in (decision.message, _closed_notice(decision.month, month)) if n
        )
        return result

    return _atomic_with_retry(work)


def reading_enter(
    *,
    meter: Meter,
    month: date,
    values: Sequence[str],
    user,
    today: date,
    source: str = Reading.Source.STAFF,
    confirm_high: bool = False,
    now: datetime | None = None,
) -> Submission:
    """Staff entry or an import line: one meter, an explicit month, the same checks."""
    wanted = month_start(month)
    # The month from the organization's first period to a year ahead (issue #16: ranges).
    problem = date_problem(
        wanted, organization_bounds(_organization_of(meter), today=today), what="Месяц показаний"
    )
    if problem:
        return Submission(form_error=problem)
    entry = ReadingEntry(meter_id=meter.pk, values=tuple(values), confirm_high=confirm_high)

    def work() -> Submission:
        locked = {m.pk: m for m in Meter.objects.select_for_update().filter(pk=meter.pk)}
        organization = _organization_of(meter)
        target = open_month(wanted, closed_months=closed_months(organization))
        result = _check_and_store(
            meters=locked,
            entries=[entry],
            month=target,
            organization=organization,
            source=source,
            user=user,
            today=today,
            now=now,
        )
        result.notice = _closed_notice(wanted, target)
        return result

    return _atomic_with_retry(work)


def building_readings_submit(
    *,
    building: Building,
    entries: Sequence[ReadingEntry],
    month: date,
    user,
    today: date,
    now: datetime | None = None,
) -> Submission:
    """Readings of a building's common-house meters («ОДПУ») for a month, entered by staff."""
    entries = [e for e in entries if not e.is_blank]
    if not entries:
        return Submission(form_error="Введите показания хотя бы одного прибора.")
    wanted = month_start(month)
    problem = date_problem(
        wanted, organization_bounds(building.organization, today=today), what="Месяц показаний"
    )
    if problem:
        return Submission(form_error=problem)

    def work() -> Submission:
        ids = sorted({e.meter_id for e in entries})
        locked = Meter.objects.select_for_update().filter(
            building=building, scope=Meter.Scope.BUILDING, pk__in=ids
        )
        meters = {m.pk: m for m in locked.order_by("pk")}
        target = open_month(wanted, closed_months=closed_months(building.organization))
        result = _check_and_store(
            meters=meters,
            entries=[ReadingEntry(e.meter_id, e.values, confirm_high=True) for e in entries],
            month=target,
            organization=building.organization,
            source=Reading.Source.BUILDING,
            user=user,
            today=today,
            now=now,
        )
        result.notice = _closed_notice(wanted, target)
        return result

    return _atomic_with_retry(work)


def _parse_initial(values: Sequence[str], *, zones: int, digits: int, precision: int):
    parsed, errors = [], []
    for zone in range(zones):
        raw = values[zone] if zone < len(values) else ""
        value, message = parse_value(raw, precision=precision, digits=digits)
        if message:
            errors.append(f"T{zone + 1}: {message}" if zones > 1 else message)
        parsed.append(value)
    return parsed, errors


def meter_replace(
    *,
    meter: Meter,
    replaced_on: date,
    final_values: Sequence[str],
    serial_number: str,
    initial_values: Sequence[str],
    verified_on: date,
    next_verification_on: date,
    user,
    today: date,
    zones: int | None = None,
    digits: int | None = None,
    precision: int | None = None,
    model: str = "",
    seal_number: str = "",
) -> Meter:
    """Close a meter with its final reading and put a new one in its place with initial values."""
    zones = zones or meter.zones
    digits = digits or meter.digits
    precision = meter.precision if precision is None else precision
    errors: dict[str, list[str]] = {}
    if meter.is_archived:
        errors["meter"] = [f"Прибор уже снят с учёта {format_date(meter.archived_on)}."]
    if not serial_number.strip():
        errors["serial_number"] = ["Укажите заводской номер нового прибора."]
    if replaced_on < meter.installed_on:
        errors["replaced_on"] = ["Дата замены раньше установки прибора."]
    if next_verification_on < verified_on:
        errors["next_verification_on"] = ["Следующая поверка не может быть раньше поверки."]
    if not 1 <= zones <= 3:
        errors["zones"] = ["Тарифных зон — от 1 до 3."]
    initial, initial_errors = _parse_initial(
        initial_values, zones=zones, digits=digits, precision=precision
    )
    if initial_errors:
        errors["initial_values"] = initial_errors
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        locked = Meter.objects.select_for_update().get(pk=meter.pk)
        organization = _organization_of(locked)
        month = open_month(month_start(replaced_on), closed_months=closed_months(organization))
        entry = ReadingEntry(meter_id=locked.pk, values=tuple(final_values), confirm_high=True)
        final = _check_and_store(
            meters={locked.pk: locked},
            entries=[entry],
            month=month,
            organization=organization,
            source=Reading.Source.STAFF,
            user=user,
            today=today,
            kind=Reading.Kind.FINAL,
            skip_verification=True,
        )
        if not final.ok:
            raise ValidationError({"final_values": final.messages()})
        locked.archived_on = replaced_on
        locked.archive_reason = "Замена прибора учёта"
        locked.save(update_fields=["archived_on", "archive_reason"])
        padded = initial + [None] * (3 - len(initial))
        return Meter.objects.create(
            scope=locked.scope,
            account=locked.account,
            building=locked.building,
            resource=locked.resource,
            serial_number=serial_number.strip(),
            model=model,
            place=locked.place,
            zones=zones,
            digits=digits,
            precision=precision,
            installed_on=replaced_on,
            verified_on=verified_on,
            next_verification_on=next_verification_on,
            seal_number=seal_number,
            initial_value1=padded[0],
            initial_value2=padded[1],
            initial_value3=padded[2],
            replaces=locked,
        )


def meter_archive(*, meter: Meter, archived_on: date, reason: str) -> Meter:
    """Take a meter off the register (no replacement): its readings are no longer taken."""
    if meter.is_archived:
        raise ValidationError(f"Прибор уже снят с учёта {format_date(meter.archived_on)}.")
    if archived_on < meter.installed_on:
        raise ValidationError("Дата снятия раньше установки прибора.")
    if not reason.strip():
        raise ValidationError("Укажите причину снятия с учёта.")
    with transaction.atomic():
        meter.archived_on = archived_on
        meter.archive_reason = reason.strip()
        meter.save(update_fields=["archived_on", "archive_reason"])
    return meter


def meter_verify(*, meter: Meter, verified_on: date, next_verification_on: date) -> Meter:
    """Record a new verification («поверка»): readings are taken again."""
    if next_verification_on < verified_on:
        raise ValidationError("Следующая поверка не может быть раньше поверки.")
    with transaction.atomic():
        meter.verified_on = verified_on
        meter.next_verification_on = next_verification_on
        meter.save(update_fields=["verified_on", "next_verification_on"])
    return meter


def reminders_opt_out(*, user) -> None:
    """The user wants no more reminder e-mails about readings and verification."""
    with transaction.atomic():
        ReminderOptOut.objects.get_or_create(user=user)


def reminders_opt_in(*, user) -> None:
    with transaction.atomic():
        ReminderOptOut.objects.filter(user=user).delete()
