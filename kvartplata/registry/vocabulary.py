"""The shared words of the domain: what a meter measures, in which unit, in which tariff zone.

Meters and billing both speak them, so they live on the registry's floor, below both. A
choice's label is its only name: pages, PDF receipts, CSV files and explanations read it from
here (`Unit(code).label`, `Resource(code).label`), never from a table of their own.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Resource(models.TextChoices):
    """What a meter measures and what a metered service bills."""

    NONE = "", _("—")
    COLD_WATER = "cold_water", _("холодная вода")
    HOT_WATER = "hot_water", _("горячая вода")
    ELECTRICITY = "electricity", _("электроэнергия")
    GAS = "gas", _("газ")
    HEAT = "heat", _("тепловая энергия")


class Unit(models.TextChoices):
    M3 = "m3", "м³"
    KWH = "kwh", "кВт·ч"
    GCAL = "gcal", "Гкал"
    M2 = "m2", "м²"
    PERSON = "person", "чел."


class Zone(models.IntegerChoices):
    """Tariff zone of a meter reading or a tariff; 0 is the single-rate tariff."""

    SINGLE = 0, _("круглосуточно")
    DAY = 1, _("день (T1)")
    NIGHT = 2, _("ночь (T2)")
    PEAK = 3, _("пик (T3)")


# The unit a meter of each resource counts in.
RESOURCE_UNIT = {
    Resource.COLD_WATER: Unit.M3,
    Resource.HOT_WATER: Unit.M3,
    Resource.GAS: Unit.M3,
    Resource.ELECTRICITY: Unit.KWH,
    Resource.HEAT: Unit.GCAL,
}


def unit_label(code: str) -> str:
    """The label of a unit code ("m3" → "м³"); an unknown code is shown as it is."""
    return str(Unit(code).label) if code in Unit.values else code


def resource_label(code: str) -> str:
    """The label of a resource code ("cold_water" → "холодная вода"); unknown: the code."""
    return str(Resource(code).label) if code in Resource.values else code


def resource_unit_label(code: str) -> str:
    """The label of the unit a meter of this resource counts in ("" for none)."""
    unit = RESOURCE_UNIT.get(code)
    return str(unit.label) if unit is not None else ""
