"""Cells of the office's report tables: money the Russian way without the rouble sign."""

from decimal import Decimal

from django import template

from kvartplata.lib.money import format_volume

register = template.Library()


@register.filter
def report_cell(value):
    if isinstance(value, Decimal):
        places = max(-value.as_tuple().exponent, 0)
        return format_volume(value, places)
    return value


@register.filter
def is_number(value) -> bool:
    return isinstance(value, Decimal | int) and not isinstance(value, bool)


@register.filter
def get_item(mapping, key):
    return mapping.get(key, []) if mapping else []
