"""Money helpers: rounding to kopecks and Russian formatting of amounts and volumes."""

from decimal import ROUND_HALF_UP, Decimal

MONEY_QUANT = Decimal("0.01")

# A no-break space keeps "1 234,56 ₽" on one line in HTML and in PDFs alike.
NBSP = "\u00a0"
MINUS = "\u2212"


def round_money(value: Decimal) -> Decimal:
    """Round an amount half-up to kopecks: the one rounding rule for every money line."""
    return _as_decimal(value).quantize(MONEY_QUANT, rounding=ROUND_HALF_UP)


def to_kopecks(value: Decimal) -> int:
    """The amount in whole kopecks (as in QR codes and bank registries), rounded half-up first."""
    return int(round_money(value) * 100)


def format_rub(value: Decimal) -> str:
    """Format an amount the Russian way: «1 234,56 ₽», «−15,00 ₽»."""
    return f"{_format_decimal(round_money(value), 2)}{NBSP}₽"


def format_volume(value: Decimal, places: int = 3) -> str:
    """Format a volume or a reading the Russian way: «12,000», «1 234,567»."""
    return _format_decimal(_as_decimal(value), places)


def _as_decimal(value: Decimal) -> Decimal:
    # The common case first: this runs several times for every line of a billing run.
    if type(value) is Decimal and value.is_finite():
        return value
    # A float has already lost kopecks by the time it gets here, so refuse it outright.
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"Ожидается Decimal, получено {type(value).__name__}: {value!r}")
    value = Decimal(value)
    if not value.is_finite():
        raise ValueError(f"Сумма должна быть конечным числом, получено {value}")
    return value


def _format_decimal(value: Decimal, places: int) -> str:
    rounded = value.quantize(
        _QUANTS[places] if places < 8 else Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP
    )
    # "-0,00" would read as a debt of nothing; zero has no sign.
    sign = MINUS if rounded < 0 else ""
    # Decimal's own format does the grouping: this runs for every line of a billing run.
    text = format(abs(rounded), f",.{places}f")
    return sign + text.replace(",", NBSP).replace(".", ",")


_QUANTS = [Decimal(1).scaleb(-p) for p in range(8)]
