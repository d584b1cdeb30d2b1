"""Template filters for money and volumes, the Russian way; floats are refused, never rounded."""

from decimal import Decimal

from django import template

from kvartplata.lib.money import format_rub, format_volume

register = template.Library()


def _checked(value):
    # A float has already lost kopecks; showing it would hide a bug upstream.
    if isinstance(value, float):
        raise TypeError(f"Сумма в шаблоне должна быть Decimal, получено float: {value!r}")
    return value


@register.filter
def rub(value):
    """«1 234,56 ₽»; empty for None."""
    if value is None or value == "":
        return ""
    return format_rub(_checked(value))


@register.filter
def rub_abs(value):
    """The amount without its sign (the words around it say debt or overpayment)."""
    if value is None or value == "":
        return ""
    return format_rub(abs(_checked(value)))


@register.filter
def vol(value, places=3):
    """A volume: «12,000», «1 234,5»; `places` digits after the comma (3 by default)."""
    if value is None or value == "":
        return ""
    value = _checked(value)
    if isinstance(value, str):
        value = Decimal(value)
    return format_volume(value, int(places))


@register.filter
def price(value):
    """A tariff: kopecks as usual, four places only when the tariff really has them."""
    if value is None or value == "":
        return ""
    value = _checked(value)
    places = 2 if value == value.quantize(Decimal("0.01")) else 4
    return f"{format_volume(value, places)}\u00a0₽"
