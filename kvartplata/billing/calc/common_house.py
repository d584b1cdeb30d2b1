"""Common-house needs (ОДН, КР на СОИ): a flat's share of the building's common volume, ПП 354."""

from collections.abc import Hashable, Mapping
from decimal import Decimal
from typing import TypeVar

from kvartplata.billing.calc.volumes import round_volume
from kvartplata.lib.money import round_money

Key = TypeVar("Key", bound=Hashable)


def odn_volume_with_meter(
    *,
    building_volume: Decimal,
    non_residential_volume: Decimal,
    flats_norm_volume: Decimal,
    flats_meter_volume: Decimal,
    heating_water_volume: Decimal = Decimal(0),
) -> Decimal:
    """The building's common-house volume by its meter, before it is shared (formula 12).

    A negative difference (the flats reported more than the building meter shows) is taken as
    zero: nothing is charged for common needs and nothing is taken back from the flats. That is
    the usual reading of ПП 354 since common needs moved into the maintenance charge in 2017.
    """
    difference = (
        building_volume
        - non_residential_volume
        - flats_norm_volume
        - flats_meter_volume
        - heating_water_volume
    )
    return max(difference, Decimal(0))


def area_share(volume: Decimal, *, flat_area: Decimal, total_area: Decimal) -> Decimal:
    """The part of a building's volume that falls on a flat in proportion to its area."""
    if total_area <= 0:
        raise ValueError("Общая площадь помещений дома должна быть больше нуля.")
    return round_volume(volume * flat_area / total_area)


def odn_share_with_meter(
    *,
    building_volume: Decimal,
    non_residential_volume: Decimal,
    flats_norm_volume: Decimal,
    flats_meter_volume: Decimal,
    heating_water_volume: Decimal = Decimal(0),
    flat_area: Decimal,
    total_area: Decimal,
) -> Decimal:
    """A flat's common-house volume by the building meter (formula 12), 6 places."""
    volume = odn_volume_with_meter(
        building_volume=building_volume,
        non_residential_volume=non_residential_volume,
        flats_norm_volume=flats_norm_volume,
        flats_meter_volume=flats_meter_volume,
        heating_water_volume=heating_water_volume,
    )
    return area_share(volume, flat_area=flat_area, total_area=total_area)


def odn_share_without_meter(
    *, norm: Decimal, common_area: Decimal, flat_area: Decimal, total_area: Decimal
) -> Decimal:
    """A flat's common-house volume by the norm (formula 15): N × S_common × S_flat / S_total."""
    return area_share(norm * common_area, flat_area=flat_area, total_area=total_area)


def cap_by_norm(volume: Decimal, cap_volume: Decimal) -> Decimal:
    """Limit a flat's common-house volume by its volume by the norm (the default since 2017)."""
    return min(volume, cap_volume)


def odn_charge(share: Decimal, tariff: Decimal) -> Decimal:
    """The charge for a common-house share (formula 10): P = V × T, in kopecks."""
    return round_money(share * tariff)


def distribute_by_area(
    total_volume: Decimal, areas: Mapping[Key, Decimal], total_area: Decimal
) -> dict[Key, Decimal]:
    """Share a building's volume over many premises by area, for a billing run over a building.

    Each share is rounded on its own, exactly as `area_share` would for that flat alone, so a
    flat's figure does not depend on its neighbours; the shares add up to the total within
    half a unit of the 6th place per premises. `total_area` may exceed the sum of `areas` when
    some premises are not billed here.
    """
    return {
        key: area_share(total_volume, flat_area=area, total_area=total_area)
        for key, area in areas.items()
    }
