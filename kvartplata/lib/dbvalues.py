"""Numbers the database cannot give back as the column says: never an exception on reading.

SQLite keeps a decimal column as REAL when the value does not fit: a volume of 1e400 comes back
as inf, an amount of 10^20 as a float that no longer fits the column's digits, and Django's
converter raises decimal.InvalidOperation — on every page that reads the row. PostgreSQL
refuses such values on writing (numeric(p, s) overflow), so only SQLite needs this.

`install()` (from CabinetConfig.ready) wraps SQLite's decimal converter: a value that does not
convert is returned as the plain Decimal of what is stored (Infinity, NaN, or the big number
unrounded) and logged; the template filters show it as «—» (cabinet.templatetags.money), and so
does Django's number formatting (the back office's lists).
"""

import decimal
import logging

log = logging.getLogger("kvartplata.dbvalues")
_create = decimal.Context(prec=15).create_decimal_from_float


def _tolerant(convert):
    def converter(value, expression, connection):
        try:
            return convert(value, expression, connection)
        except (decimal.InvalidOperation, ValueError, TypeError, OverflowError):
            column = getattr(expression, "target", None)
            log.error(
                "Unreadable number in %s: %r",
                f"{column.model._meta.db_table}.{column.column}" if column is not None else "?",
                value,
            )
            try:
                return _create(value) if isinstance(value, float) else decimal.Decimal(value)
            except (decimal.InvalidOperation, ValueError, TypeError):
                return decimal.Decimal("NaN")

    return converter


def install() -> None:
    """Wrap SQLite's decimal converter and Django's number formatting once (idempotent)."""
    # The backend module first: importing its operations module alone is a circular import.
    from django.db.backends.sqlite3 import base  # noqa: F401
    from django.db.backends.sqlite3.operations import DatabaseOperations

    original = DatabaseOperations.get_decimalfield_converter
    if getattr(original, "tolerant", False):
        return

    def get_decimalfield_converter(self, expression):
        return _tolerant(original(self, expression))

    get_decimalfield_converter.tolerant = True
    DatabaseOperations.get_decimalfield_converter = get_decimalfield_converter

    # The admin's lists format decimals with numberformat.format, which fails on Infinity/NaN.
    from django.utils import numberformat

    number_format = numberformat.format

    def format_number(number, *args, **kwargs):
        if isinstance(number, decimal.Decimal) and not number.is_finite():
            log.error("Unshowable number %r in a page", number)
            return "—"
        return number_format(number, *args, **kwargs)

    numberformat.format = format_number
