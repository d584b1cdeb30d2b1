"""Template filters rub, rub_abs, vol and price: the Russian way, and never from a float."""

from decimal import Decimal

import pytest
from django.template import Context, Template

NBSP = "\u00a0"


def render(source: str, **context) -> str:
    return Template("{% load money %}" + source).render(Context(context))


def test_it_formats_amounts_the_russian_way():
    assert render("{{ v|rub }}", v=Decimal("1234.5")) == f"1{NBSP}234,50{NBSP}₽"
    assert render("{{ v|rub }}", v=Decimal("-15")) == f"\u221215,00{NBSP}₽"
    assert render("{{ v|rub_abs }}", v=Decimal("-15")) == f"15,00{NBSP}₽"
    assert render("{{ v|rub }}", v=None) == ""


def test_it_formats_volumes_and_tariffs():
    assert render("{{ v|vol }}", v=Decimal("12")) == "12,000"
    assert render("{{ v|vol:6 }}", v="0.190167") == "0,190167"
    assert render("{{ v|price }}", v=Decimal("45.6700")) == f"45,67{NBSP}₽"
    assert render("{{ v|price }}", v=Decimal("5.7245")) == f"5,7245{NBSP}₽"


@pytest.mark.parametrize("name", ["rub", "rub_abs", "vol", "price"])
def test_it_refuses_floats(name):
    with pytest.raises(TypeError):
        render(f"{{{{ v|{name} }}}}", v=1.1)


@pytest.mark.parametrize("name", ["rub", "rub_abs", "vol", "price"])
@pytest.mark.parametrize(
    "value", [Decimal("Infinity"), Decimal("-Infinity"), Decimal("NaN"), Decimal("1E+400")]
)
def test_it_shows_a_number_it_cannot_format_as_a_dash_and_logs_it(name, value, caplog):
    with caplog.at_level("ERROR", logger="kvartplata.cabinet"):
        assert render(f"{{{{ v|{name} }}}}", v=value) == "—"
    assert "Unshowable number" in caplog.text
