"""The sheets and columns of the registry exchange format (docs/registry-format.md)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Sheet:
    name: str  # sheet of the workbook, or `<name>.csv` in a set of CSV files
    title: str  # in Russian, for the report
    columns: tuple[str, ...]
    required: tuple[str, ...]


ADDRESS = ("city", "street", "house")
# The columns of a meter that the meter row itself holds (what a reload compares and updates).
METER_FIELDS = (
    "resource",
    "zones",
    "model",
    "digits",
    "precision",
    "installed_on",
    "verified_on",
    "next_verification_on",
    "initial_value1",
    "initial_value2",
    "initial_value3",
)
METER_COLUMNS = (
    *METER_FIELDS,
    "last_month",
    "last_value1",
    "last_value2",
    "last_value3",
)
METER_REQUIRED = (
    "serial_number",
    "resource",
    "installed_on",
    "verified_on",
    "next_verification_on",
)

# A building's columns besides its address (its key): what a reload compares and updates.
BUILDING_FIELDS = (
    "fias_code",
    "building_type",
    "floors",
    "built_year",
    "total_area",
    "residential_area",
    "non_residential_area",
    "common_area",
)
# A provider's columns besides its key (ИНН): what a reload compares and updates.
PROVIDER_FIELDS = (
    "kpp",
    "name",
    "short_name",
    "bank_name",
    "bic",
    "correspondent_account",
    "settlement_account",
    "address",
    "phones",
)

SHEETS = (
    Sheet(
        "providers",
        "поставщики",
        ("inn", *PROVIDER_FIELDS),
        ("inn", "name", "bank_name", "bic", "correspondent_account", "settlement_account"),
    ),
    Sheet(
        "buildings",
        "дома",
        (*ADDRESS, *BUILDING_FIELDS),
        (*ADDRESS, "total_area", "residential_area"),
    ),
    Sheet(
        "premises",
        "помещения",
        (*ADDRESS, "number", "kind", "total_area", "living_area", "rooms", "floor"),
        (*ADDRESS, "number", "total_area"),
    ),
    Sheet(
        "accounts",
        "лицевые счета",
        (
            "number",
            *ADDRESS,
            "premises",
            "holder_last_name",
            "holder_first_name",
            "holder_middle_name",
            "holder_phone",
            "residents",
            "share",
            "opened_on",
            "closed_on",
        ),
        ("number", *ADDRESS, "premises", "holder_last_name", "holder_first_name", "opened_on"),
    ),
    Sheet(
        "meters",
        "приборы учёта",
        ("serial_number", "account", *METER_COLUMNS),
        (*METER_REQUIRED, "account"),
    ),
    Sheet(
        "building_meters",
        "общедомовые приборы",
        ("serial_number", *ADDRESS, *METER_COLUMNS),
        (*METER_REQUIRED, *ADDRESS),
    ),
    Sheet(
        "opening_balances",
        "начальное сальдо",
        ("account", "provider_inn", "month", "amount"),
        ("account", "provider_inn", "month", "amount"),
    ),
)
BY_NAME = {s.name: s for s in SHEETS}
