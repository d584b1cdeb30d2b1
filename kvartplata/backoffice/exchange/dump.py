"""Export an organization's registry in the exchange format (the same the importer reads).

Rows are ordered by their natural keys and every value is written as the importer parses it,
so that export → import into an empty organization → export gives identical files. Text cells
that a spreadsheet would run as a formula get a leading apostrophe (`lib.exports.safe_cell`);
the reader takes it off again.
"""

import datetime
from collections.abc import Iterator
from decimal import Decimal

from kvartplata.backoffice.exchange.fileformat import BY_NAME, SHEETS
from kvartplata.backoffice.exchange.load import OPENING_NOTE
from kvartplata.billing.models import LedgerEntry
from kvartplata.lib.exports import safe_cell
from kvartplata.meters.models import Meter, Reading
from kvartplata.registry.models import Building, Organization, PersonalAccount, Premises, Provider

CHUNK = 5000  # rows fetched at a time


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(safe_cell(value))


def _rows(queryset, fields) -> Iterator[list[str]]:
    for row in queryset.values_list(*fields).iterator(chunk_size=CHUNK):
        yield [_text(v) for v in row]


def registry_tables(organization: Organization) -> dict[str, tuple[tuple[str, ...], Iterator]]:
    """Every sheet of the format: {name: (columns, rows of text)}, ready for `write_tables`.

    The rows are read as they are written, sheet after sheet: an organization of 100 000
    accounts is never in memory whole (only the last reading of each meter is).
    """
    org = organization
    tables = {}
    sheet = BY_NAME["providers"]
    tables["providers"] = _rows(
        Provider.objects.filter(organization=org).order_by("inn"), sheet.columns
    )
    tables["buildings"] = _rows(
        Building.objects.filter(organization=org).order_by("city", "street", "house"),
        BY_NAME["buildings"].columns,
    )
    address = ("building__city", "building__street", "building__house")
    tables["premises"] = _rows(
        Premises.objects.filter(building__organization=org).order_by(*address, "number"),
        (*address, *BY_NAME["premises"].columns[3:]),
    )
    tables["accounts"] = _rows(
        PersonalAccount.objects.filter(organization=org).order_by("number"),
        (
            "number",
            *(f"premises__{a}" for a in address),
            "premises__number",
            *BY_NAME["accounts"].columns[5:],
        ),
    )
    last = _last_readings(org)
    tables["meters"] = _meters(org, last, ("account__number",), "account__organization")
    tables["building_meters"] = _meters(org, last, address, "building__organization")
    tables["opening_balances"] = (
        [number, inn, f"{month:%Y-%m}", _text(amount)]
        for number, inn, month, amount in LedgerEntry.objects.filter(
            period__organization=org,
            kind=LedgerEntry.Kind.CORRECTION,
            note=OPENING_NOTE,
        )
        .order_by("account__number", "provider__inn", "concerns_month")
        .values_list("account__number", "provider__inn", "concerns_month", "amount")
        .iterator(chunk_size=CHUNK)
    )
    return {s.name: (s.columns, tables[s.name]) for s in SHEETS}


def _meters(org, last: dict[int, tuple], owner: tuple[str, ...], scope: str) -> Iterator[list]:
    """The meters sheet (flat meters, or the buildings' meters), with each one's last reading."""
    fields = BY_NAME["meters"].columns[2:-4]  # resource … initial_value3
    meters = Meter.objects.filter(**{scope: org}).order_by("serial_number")
    rows = meters.values_list("id", "serial_number", *owner, *fields).iterator(chunk_size=CHUNK)
    for meter_id, *values in rows:
        reading = last.get(meter_id)
        tail = ["", "", "", ""]
        if reading is not None:
            month, *vals = reading
            tail = [f"{month:%Y-%m}", *(_text(v) for v in vals)]
        yield [_text(v) for v in values] + tail


def _last_readings(org) -> dict[int, tuple]:
    """The latest accepted reading of each meter of the organization: (month, v1, v2, v3)."""
    last = {}
    for owner in ("account__organization", "building__organization"):
        rows = (
            Reading.objects.filter(**{f"meter__{owner}": org}, is_accepted=True)
            .order_by("meter_id", "month")
            .values_list("meter_id", "month", "value1", "value2", "value3")
        )
        for meter_id, *values in rows.iterator(chunk_size=CHUNK):
            last[meter_id] = tuple(values)
    return last
