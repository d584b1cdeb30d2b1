"""Template filters of the meters pages: readings with a decimal comma, no trailing zeros."""

import logging
from decimal import Decimal

from django import template

from kvartplata.meters.validation import fmt

register = template.Library()
log = logging.getLogger("kvartplata.meters")


@register.filter
def reading(value):
    """Refuses floats on purpose: readings are Decimal end to end."""
    if value is None or value == "":
        return "—"
    if not isinstance(value, Decimal | int):
        raise TypeError("reading filter takes Decimal values only")
    try:
        return fmt(Decimal(value))
    except (ArithmeticError, ValueError) as exc:  # Infinity, NaN: whatever the database holds
        log.error("Unshowable reading %r in a page: %s", value, exc)
        return "—"
