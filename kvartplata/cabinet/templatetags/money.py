"""Template filters for money and volumes, the Russian way; floats are refused, never rounded.

A value that cannot be shown (Infinity, NaN, a number too big for its format — whatever the
database holds) is shown as «—» and logged: a page never fails on a number.
"""

import logging
from decimal import Decimal

from django import template

from kvartplata.lib.money import format_rub, format_volume

register = template.Library()
log = logging.getLogger("kvartplata.cabinet")
UNSHOWABLE = "—"


def _checked(value):
    # A float has already lost kopecks; showing it would hide a bug upstream.
    if isinstance(value, float):
        raise TypeError(f"Сумма в шаблоне должна быть Decimal, получено float: {value!r}")
    return value


def _shown(format_, value, *args) -> str:
    try:
        return format_(value, *args)
    except (ArithmeticError, ValueError) as exc:  # InvalidOperation is an ArithmeticError
        log.error("Unshowable number %r in a page: %s", value, exc)
        return UNSHOWABLE


def _rub(value) -> str:
    return format_rub(value)


def _rub_abs(value) -> str:
    return format_rub(abs(value))


def _vol(value, places: int) -> str:
    if isinstance(value, str):
        value = Decimal(value)
    return format_volume(value, places)


def _price(value) -> str:
    places = 2 if value == value.quantize(Decimal("0.01")) else 4
    return f"{format_volume(value, places)}\u00a0₽"


@register.filter
def rub(value):
    """«1 234,56 ₽»; empty for None."""
    if value is None or value == "":
        return ""
    return _shown(_rub, _checked(value))


@register.filter
def rub_abs(value):
    """The amount without its sign (the words around it say debt or overpayment)."""
    if value is None or value == "":
        return ""
    return _shown(_rub_abs, _checked(value))


@register.filter
def vol(value, places=3):
    """A volume: «12,000», «1 234,5»; `places` digits after the comma (3 by default)."""
    if value is None or value == "":
        return ""
    return _shown(_vol, _checked(value), int(places))


@register.filter
def price(value):
    """A tariff: kopecks as usual, four places only when the tariff really has them."""
    if value is None or value == "":
        return ""
    return _shown(_price, _checked(value))
