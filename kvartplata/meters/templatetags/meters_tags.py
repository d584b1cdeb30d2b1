"""Template filters of the meters pages: readings with a decimal comma, no trailing zeros."""

from decimal import Decimal

from django import template

from kvartplata.meters.validation import fmt

register = template.Library()


@register.filter
def reading(value):
    """Refuses floats on purpose: readings are Decimal end to end."""
    if value is None or value == "":
        return "—"
    if not isinstance(value, Decimal | int):
        raise TypeError("reading filter takes Decimal values only")
    return fmt(Decimal(value))
