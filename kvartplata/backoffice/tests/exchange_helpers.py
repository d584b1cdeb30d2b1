"""Shared pieces of the registry exchange tests: an organization and a small generated file."""

import datetime
import io

from kvartplata.backoffice.exchange.files import write_csv_zip, write_xlsx
from kvartplata.backoffice.exchange.generate import registry_workbook
from kvartplata.registry.models import Organization

SWITCH = datetime.date(2026, 3, 1)
DETAILS = {
    "inn": "7707083893",
    "kpp": "773601001",
    "bank_name": "ПАО Сбербанк",
    "bic": "044525225",
    "correspondent_account": "30101810400000000225",
    "settlement_account": "40702810138250123017",
}


def organization(name="УК Новая") -> Organization:
    return Organization.objects.create(
        name=f"ООО «{name}»", short_name=name, address="г. Рязань", **DETAILS
    )


def tables(accounts=6, **options) -> dict:
    return registry_workbook(
        accounts=accounts, switch_month=SWITCH, flats_per_building=4, **options
    )


def xlsx(data: dict) -> bytes:
    buf = io.BytesIO()
    write_xlsx(data, buf)
    return buf.getvalue()


def csv_zip(data: dict) -> bytes:
    buf = io.BytesIO()
    write_csv_zip(data, buf)
    return buf.getvalue()


def edit(data: dict, sheet: str, index: int, column: str, value: str) -> dict:
    """A copy of the tables with one cell changed."""
    columns, rows = data[sheet]
    rows = [list(r) for r in rows]
    rows[index][columns.index(column)] = value
    return {**data, sheet: (columns, rows)}
