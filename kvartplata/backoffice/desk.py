"""The account desk's read side: search by number, address, holder or phone; one account.

Search uses indexes only: the number and the holder's surname are indexed on the accounts for
equality and prefix (registry migration 0004), the phone by (organization, phone) (billing
migration 0016), an address goes through the organization's buildings (a short list) to the
premises by building and number.
"""

import datetime
import re
from dataclasses import dataclass

from django.db.models import Q
from django.db.models.functions import Lower

from kvartplata.billing.models import LedgerEntry, Recalculation
from kvartplata.meters.models import Meter, Reading
from kvartplata.payments.matching import parse_address
from kvartplata.payments.models import Payment
from kvartplata.receipts.models import Receipt, ReceiptDelivery
from kvartplata.registry.models import Building, Period, PersonalAccount
from kvartplata.statements import selectors
from kvartplata.users.models import AccountLink

LIMIT = 50
READINGS_PER_METER = 6
LEDGER_ROWS = 60


def _spellings(word: str) -> list[str]:
    return sorted({word, word.lower(), word.capitalize(), word.upper()})


def phone_variants(text: str) -> list[str]:
    """The ways a phone number is usually stored: +7XXXXXXXXXX, 8XXXXXXXXXX, 7…, bare 10."""
    digits = re.sub(r"\D", "", text)
    if len(digits) == 11 and digits[0] in "78":
        digits = digits[1:]
    if len(digits) != 10:
        return [digits] if digits else []
    a, b, c, d, e = digits[:3], digits[3:6], digits[6:8], digits[8:], digits
    return sorted(
        {
            f"+7{e}",
            f"8{e}",
            f"7{e}",
            e,
            f"+7 ({a}) {b}-{c}-{d}",
            f"8 ({a}) {b}-{c}-{d}",
            f"+7 {a} {b}-{c}-{d}",
            f"+7-{a}-{b}-{c}-{d}",
        }
    )


def search(organization, query: str) -> list[PersonalAccount]:
    """Accounts of the organization by number, phone, holder's surname or address."""
    query = (query or "").strip()[:100]
    if not query:
        return []
    base = PersonalAccount.objects.filter(organization=organization).select_related(
        "premises__building"
    )
    digits = re.sub(r"\D", "", query)
    letters = re.findall(r"[А-Яа-яЁёA-Za-z]{2,}", query)
    if digits and not letters:
        condition = Q(number=digits) | Q(number__startswith=digits)
        if len(digits) >= 10 or query.startswith("+"):
            condition |= Q(holder_phone__in=phone_variants(query))
        return list(base.filter(condition).order_by("number")[:LIMIT])
    words, numbers, flat = parse_address(query)
    if numbers and words:
        street = Q()
        for word in words:
            for spelling in _spellings(word):
                street |= Q(street__contains=spelling)
        buildings = list(
            Building.objects.filter(organization=organization)
            .filter(street, house__in=numbers)
            .values_list("id", flat=True)[:LIMIT]
        )
        found = base.filter(premises__building_id__in=buildings)
        if flat:
            found = found.filter(premises__number=flat)
        return list(found.order_by("number")[:LIMIT])
    surname = letters[0] if letters else query
    condition = Q()
    for spelling in _spellings(surname):  # a prefix: the surname itself or its beginning
        condition |= Q(holder_last_name__startswith=spelling)
    rows = base.filter(condition)
    if len(letters) > 1:
        rows = rows.filter(
            Q(holder_first_name__in=_spellings(letters[1]))
            | Q(holder_first_name__startswith=letters[1][:1].upper())
        )
    # Ordered by an expression rather than the surname's own index: PostgreSQL then reads the
    # matching rows by the prefix indexes (registry migration 0004) and sorts those few, instead
    # of walking the whole index in order until it has found enough of them.
    return list(rows.order_by(Lower("holder_last_name"), "number")[:LIMIT])


@dataclass
class MeterRow:
    meter: Meter
    readings: list[Reading]


@dataclass
class Desk:
    account: PersonalAccount
    periods: list[Period]
    period: Period | None
    month: selectors.MonthCharges | None
    movement: selectors.Movement | None
    meters: list[MeterRow]
    payments: list[Payment]
    receipts: list[Receipt]
    deliveries: dict[int, list[ReceiptDelivery]]
    ledger: list[LedgerEntry]
    logins: list[AccountLink]
    recalculations: list[Recalculation]
    current: Period | None


def account_desk(account: PersonalAccount, month: datetime.date | None = None) -> Desk:
    """Everything of one account the operator needs on one page (the staff's view: the month
    not closed yet shows what the run computed). A fixed number of queries."""
    periods = selectors.organization_periods(account.organization_id)
    by_month = {p.month: p for p in periods}
    period = by_month.get(month) if month else selectors.last_billed_of(periods)
    movement = None
    if periods:
        last = periods[-1].month
        first = max(periods[0].month, last.replace(year=last.year - 1))
        movement = selectors.money_movement(account, periods, first, last, issued=False)
    meters = list(
        Meter.objects.filter(account=account).order_by("archived_on", "resource", "serial_number")
    )
    readings: dict[int, list[Reading]] = {m.id: [] for m in meters}
    for reading in Reading.objects.filter(meter__in=meters).order_by("-month", "-submitted_at"):
        rows = readings[reading.meter_id]
        if len(rows) < READINGS_PER_METER:
            rows.append(reading)
    receipts = list(Receipt.objects.filter(account=account).order_by("-month")[:24])
    deliveries: dict[int, list[ReceiptDelivery]] = {}
    for delivery in ReceiptDelivery.objects.filter(receipt__in=receipts).order_by("-created_at"):
        deliveries.setdefault(delivery.receipt_id, []).append(delivery)
    return Desk(
        account=account,
        periods=periods,
        period=period,
        month=selectors.month_charges(account, period) if period else None,
        movement=movement,
        meters=[MeterRow(m, readings[m.id]) for m in meters],
        payments=list(
            Payment.objects.filter(account=account).select_related("bank").order_by("-paid_at")[:24]
        ),
        receipts=receipts,
        deliveries=deliveries,
        ledger=list(
            LedgerEntry.objects.filter(account=account)
            .select_related("period")
            .order_by("-period__month", "-id")[:LEDGER_ROWS]
        ),
        logins=list(AccountLink.objects.filter(account=account).select_related("user")),
        recalculations=list(
            Recalculation.objects.filter(account=account)
            .select_related("period", "service", "created_by")
            .order_by("-period__month", "-id")[:24]
        ),
        current=selectors.current_of(periods),
    )


def masked_email(email: str) -> str:
    """Enough of a login's e-mail to recognise it on the phone, not to write to it."""
    if "@" not in (email or ""):
        return ""
    name, domain = email.split("@", 1)
    return f"{name[:1]}***@{domain}"
