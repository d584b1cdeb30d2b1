"""The frozen receipt snapshot: its schema, validation and a sample for tests and the benchmark.

A snapshot is everything printed on one payment document (ЕПД), frozen into
``Receipt.data`` when the month is closed; the PDF is rendered from it alone, never from live
tables, so a receipt printed a year later is the same document. It is plain JSON:

* amounts are strings with two decimals, ``"1234.56"`` (``"-15.00"`` for an advance/credit);
* volumes, readings, tariffs, areas are decimal strings (any number of places, printed as given
  up to 3 places for volumes and readings, 2 for tariffs and areas);
* dates are ISO strings (``"2026-03-01"``), ``issued_at`` is an ISO date-time;
* optional text is ``""`` and optional numbers are ``None`` (printed as a dash).

The renderer never adds amounts up: every total is the billing engine's figure.

Schema (see the TypedDicts below, ``sample_snapshot()`` is a complete example)::

    version            1 (the schema version; bump it on incompatible changes)
    number             receipt number, unique per organization (int)
    issued_at          ISO date-time of issuing
    period             first day of the billed month, "2026-03-01"
    due_date           pay by, "2026-04-15"
    organization       the executor (управляющая организация): name, inn, kpp, ogrn, address,
                       phones [str], email, website, hours, bank {name, bic, corr, account}
    account            the personal account: number, holder {last, first, middle}, address,
                       area (total), living_area, residents (int)
    payees             [1..3] who is paid, one QR code each: name, inn, kpp,
                       bank {name, bic, corr, account}, amount (the QR's Sum; ≤ 0 → no Sum),
                       purpose (payment purpose text), services [str] (what it collects for)
    meters             [0..40] flat meters: service, serial, zone ("" or day/night/peak name),
                       previous, current (readings or None), unit
    charges            [1..60] per service: service, provider, unit, volume, common_volume,
                       tariff, charged, coefficient_amount, recalculations, privileges, total,
                       method ("" or how the volume was found: by meter/norm/average),
                       explanation ("" or a short note)
    totals             opening (debt > 0, advance < 0 from earlier periods), charges (sum of
                       charge totals), recalculations, penalties, payments (paid in the period),
                       total_due
    recalculations     [0..60] service, month ("2026-01-01"), amount, reason
    reference          norms [0..20] {service, unit, individual, common},
                       building [0..20] {resource, reading, volume, unit, flats, common_property}
    instalments        [0..20] payment by instalments granted: service, amount (the instalment
                       of this month), months (left), interest (charged for it this month)
    notice             "" or a free text line for residents (announcements)
    change             why the sum changed against the previous issued month (section 4):
                       headline, causes [0..5] (one line per service, the largest first);
                       and the whole explanation the cabinet and the e-mail show: lead (the
                       headline alone), previous_month, total (the change of the total due),
                       services [0..60] {name, amount, sentences [0..20], meters (true when
                       the estimate method is a cause: the resident is sent to the meters)}

Fields added after version 1 (``ADDED_FIELDS``) may be absent from receipts frozen before them;
the renderer prints a dash (or the form's "none" wording) for them:
account.link_code (the code to link the account in the resident's cabinet), charges and totals
amount_individual / amount_common (the fee for individual use and for common-house needs),
total_individual / total_common, totals charged / coefficient_amount / privileges (the sums of
the columns), reference.building flats / common_property (the house's volume split into the
flats and the common property), instalments, payees debt / advance (the payee's own debt or
advance from earlier months; its amount is that debt − advance + its month, never negative),
change (absent also for an account's first issued month), and change's lead / previous_month /
total / services (receipts frozen before them: the cabinet then computes the explanation).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, TypedDict

SCHEMA_VERSION = 1
# Sanity bounds of the lists; the layout flows onto more pages, so none of them cuts anything.
LIMITS = {
    "payees": (1, 3),
    "meters": (0, 40),
    "charges": (1, 60),
    "recalculations": (0, 60),
    "norms": (0, 20),
    "building": (0, 20),
    "causes": (0, 5),
    # A service's change has one sentence per cause and per recalculation booked for it.
    "services": (0, 100),
    "sentences": (0, 500),
    "instalments": (0, 20),
}
# Longest text of a field (every text wraps; these only catch garbage). A cause of the bill change
# names each of the service's changes, recalculations of earlier months included.
TEXT_LIMITS = {"causes": 4000, "sentences": 4000}
_MONEY_RE = re.compile(r"-?[0-9]{1,12}\.[0-9]{2}")
_NUMBER_RE = re.compile(r"-?[0-9]{1,12}(\.[0-9]{1,6})?")
# (schema type, field) pairs: a field of the same name elsewhere (a charge's «charged») stays
# required.
ADDED_FIELDS = frozenset(
    {
        ("Account", "link_code"),
        *(
            (kind, field)
            for kind in ("Charge", "Totals")
            for field in ("amount_individual", "amount_common", "total_individual", "total_common")
        ),
        ("Totals", "charged"),
        ("Totals", "coefficient_amount"),
        ("Totals", "privileges"),
        ("BuildingVolume", "flats"),
        ("BuildingVolume", "common_property"),
        ("Snapshot", "instalments"),
        ("Payee", "debt"),
        ("Payee", "advance"),
        ("Snapshot", "change"),
        *(("BillChange", field) for field in ("lead", "previous_month", "total", "services")),
    }
)


class Bank(TypedDict):
    name: str
    bic: str  # 9 digits
    corr: str  # correspondent account, 20 digits
    account: str  # settlement account, 20 digits


class Organization(TypedDict):
    name: str
    inn: str
    kpp: str
    ogrn: str
    address: str
    phones: list[str]
    email: str
    website: str
    hours: str
    bank: Bank


class Holder(TypedDict):
    last: str
    first: str
    middle: str


class Account(TypedDict):
    number: str
    holder: Holder
    address: str
    area: str
    living_area: str | None
    residents: int
    link_code: str


class Payee(TypedDict):
    name: str
    inn: str
    kpp: str
    bank: Bank
    amount: str
    debt: str  # the payee's own debt from earlier months ("0.00" if none)
    advance: str  # the payee's own advance from earlier months ("0.00" if none)
    purpose: str
    services: list[str]


class Meter(TypedDict):
    service: str
    serial: str
    zone: str
    previous: str | None
    current: str | None
    unit: str


class Charge(TypedDict):
    service: str
    provider: str
    unit: str
    volume: str | None
    common_volume: str | None
    tariff: str | None
    charged: str
    coefficient_amount: str
    recalculations: str
    privileges: str
    total: str
    method: str
    explanation: str
    amount_individual: str
    amount_common: str
    total_individual: str
    total_common: str


class Totals(TypedDict):
    opening: str
    charges: str
    recalculations: str
    penalties: str
    payments: str
    total_due: str
    amount_individual: str
    amount_common: str
    charged: str
    coefficient_amount: str
    privileges: str
    total_individual: str
    total_common: str


class Recalculation(TypedDict):
    service: str
    month: str
    amount: str
    reason: str


class Norm(TypedDict):
    service: str
    unit: str
    individual: str | None
    common: str | None


class BuildingVolume(TypedDict):
    resource: str
    reading: str | None
    volume: str | None
    unit: str
    flats: str | None
    common_property: str | None


class Instalment(TypedDict):
    service: str
    amount: str
    months: int
    interest: str


class ChangedService(TypedDict):
    name: str
    amount: str
    sentences: list[str]
    meters: bool


class BillChange(TypedDict):
    headline: str
    causes: list[str]
    lead: str
    previous_month: str
    total: str
    services: list[ChangedService]


class Reference(TypedDict):
    norms: list[Norm]
    building: list[BuildingVolume]


class Snapshot(TypedDict):
    version: int
    number: int
    issued_at: str
    period: str
    due_date: str
    organization: Organization
    account: Account
    payees: list[Payee]
    meters: list[Meter]
    charges: list[Charge]
    totals: Totals
    recalculations: list[Recalculation]
    reference: Reference
    instalments: list[Instalment]
    notice: str
    change: BillChange


class SnapshotError(ValueError):
    """A snapshot does not follow the schema; the message says where, in Russian."""


def _fail(path: str, message: str) -> None:
    raise SnapshotError(f"Снимок квитанции, {path}: {message}")


@cache
def _fields(td: type) -> dict[str, tuple[bool, str]]:
    """A TypedDict's fields: key → (optional, type without «| None»), read once per process."""
    # With postponed annotations a TypedDict keeps its field types as ForwardRef strings.
    fields = {}
    for key, hint in td.__annotations__.items():
        hint = getattr(hint, "__forward_arg__", hint)
        fields[key] = (hint.endswith("| None"), hint.removesuffix(" | None"))
    return fields


def _check(td: type, data: Any, path: str, own: str = "") -> None:
    """Check a dict against ``td``; ``own`` is the field holding it (``bank``, ``holder``)."""
    if not isinstance(data, dict):
        _fail(path, "ожидается объект")
    fields = _fields(td)
    missing = [key for key in fields if key not in data and (td.__name__, key) not in ADDED_FIELDS]
    if missing:
        _fail(path, f"нет полей {', '.join(missing)}")
    extra = [key for key in data if key not in fields]
    if extra:
        _fail(path, f"лишние поля {', '.join(map(str, extra))}")
    for key, (optional, base) in fields.items():
        if key in data:
            _check_value(optional, base, data[key], f"{path}.{key}" if path else key, key, own)


def _check_value(optional: bool, base: str, value: Any, path: str, name: str, parent: str) -> None:
    """Check one value of field ``name`` (of the dict held by ``parent``) at ``path``."""
    if value is None:
        if not optional:
            _fail(path, "не может быть пустым")
        return
    if base in _TYPED:
        _check(_TYPED[base], value, path, name)
    elif base.startswith("list["):
        inner = base[5:-1]
        if not isinstance(value, list):
            _fail(path, "ожидается список")
        low, high = LIMITS.get(name, (0, 20))
        if not low <= len(value) <= high:
            _fail(path, f"от {low} до {high} строк, получено {len(value)}")
        for k, item in enumerate(value):
            _check_value(False, inner, item, f"{path}[{k}]", name, parent)
    elif base == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            _fail(path, "ожидается неотрицательное целое")
    elif base == "bool":
        if not isinstance(value, bool):
            _fail(path, "ожидается да или нет (true/false)")
    elif base == "str":
        if not isinstance(value, str):
            _fail(path, "ожидается строка")
        _check_format(path, value, name, parent)


_MONEY_FIELDS = {
    "amount",
    "charged",
    "coefficient_amount",
    "recalculations",
    "privileges",
    "total",
    "opening",
    "charges",
    "penalties",
    "payments",
    "total_due",
    "amount_individual",
    "amount_common",
    "total_individual",
    "total_common",
    "interest",
    "debt",
    "advance",
}
_NUMBER_FIELDS = {
    "area",
    "living_area",
    "previous",
    "current",
    "volume",
    "common_volume",
    "tariff",
    "individual",
    "common",
    "reading",
    "flats",
    "common_property",
}
_DATE_FIELDS = {"period", "due_date", "month", "previous_month"}
_DIGIT_FIELDS = {"bic": 9, "corr": 20, "account": 20}


def _check_format(path: str, value: str, name: str, parent: str) -> None:
    if name in _MONEY_FIELDS and parent != "holder":
        if not _MONEY_RE.fullmatch(value):
            _fail(path, f"сумма в виде «1234.56», получено «{value}»")
    elif name in _NUMBER_FIELDS:
        if not _NUMBER_RE.fullmatch(value):
            _fail(path, f"число в виде «12.345», получено «{value}»")
    elif name in _DATE_FIELDS:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            _fail(path, f"дата в виде ГГГГ-ММ-ДД, получено «{value}»")
        if name in ("period", "month", "previous_month") and day.day != 1:
            _fail(path, "период задаётся первым днём месяца")
    elif name == "issued_at":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            _fail(path, f"дата и время ISO, получено «{value}»")
    elif (
        name in _DIGIT_FIELDS
        and parent == "bank"
        and not (value.isascii() and value.isdigit() and len(value) == _DIGIT_FIELDS[name])
    ):
        _fail(path, f"нужно {_DIGIT_FIELDS[name]} цифр, получено «{value}»")
    limit = TEXT_LIMITS.get(name, 500)
    if len(value) > limit:
        _fail(path, f"слишком длинный текст (более {limit} символов)")


_TYPED: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        Bank,
        Organization,
        Holder,
        Account,
        Payee,
        Meter,
        Charge,
        Totals,
        Recalculation,
        Norm,
        BuildingVolume,
        Instalment,
        Reference,
        BillChange,
        ChangedService,
    )
}


def validate_snapshot(data: dict) -> None:
    """Raise SnapshotError (a ValueError) with a Russian message if ``data`` breaks the schema."""
    _check(Snapshot, data, "")
    if data["version"] != SCHEMA_VERSION:
        _fail("version", f"поддерживается версия {SCHEMA_VERSION}, получено {data['version']}")
    if not data["account"]["number"].strip():
        _fail("account.number", "не заполнен номер лицевого счёта")


def money(value: str) -> Decimal:
    """An amount of a snapshot as Decimal."""
    try:
        return Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - validate_snapshot rejects these
        raise SnapshotError(f"Снимок квитанции: неверная сумма «{value}»") from exc


def sample_snapshot(variant: int = 0) -> dict:
    """A complete, valid snapshot; ``variant`` varies names, readings and amounts (benchmarks)."""
    v = variant
    last, first, middle = (
        ("Иванов", "Иван", "Иванович"),
        ("Петрова", "Мария", "Сергеевна"),
        ("Сидоров", "Алексей", "Петрович"),
        ("Кузнецова", "Анна", "Олеговна"),
    )[v % 4]
    flat = 15 + v % 180
    area = Decimal("54.30") + Decimal(v % 37)
    cold_prev, hot_prev, el_day, el_night = 312 + v % 50, 198 + v % 30, 10234 + v, 4521 + v
    cold, hot = Decimal(3 + v % 5), Decimal(2 + v % 3)

    def line(service, provider, unit, volume, common, tariff, coef="0.00", recalc="0.00",
             priv="0.00", method="по прибору учёта", explanation=""):  # fmt: skip
        vol = Decimal(volume) if volume is not None else Decimal(1)
        individual = (vol * Decimal(tariff)).quantize(Decimal("0.01"))
        common_amount = Decimal("0.00")
        if common is not None:
            common_amount = (Decimal(common) * Decimal(tariff)).quantize(Decimal("0.01"))
        charged = individual + common_amount
        total = charged + Decimal(coef) + Decimal(recalc) - Decimal(priv)
        return {
            "service": service,
            "provider": provider,
            "unit": unit,
            "volume": None if volume is None else f"{Decimal(volume):.3f}",
            "common_volume": None if common is None else f"{Decimal(common):.3f}",
            "tariff": tariff,
            "charged": f"{charged:.2f}",
            "coefficient_amount": coef,
            "recalculations": recalc,
            "privileges": priv,
            "total": f"{total:.2f}",
            "method": method,
            "explanation": explanation,
            "amount_individual": f"{individual:.2f}",
            "amount_common": f"{common_amount:.2f}",
            "total_individual": f"{total - common_amount:.2f}",
            "total_common": f"{common_amount:.2f}",
        }

    def column(key):
        return f"{sum(Decimal(c[key]) for c in charges):.2f}"

    uk = "ООО «УК Уютный дом»"
    vk = "АО «Горводоканал»"
    es = "ПАО «Энергосбыт»"
    charges = [
        line(
            "Содержание жилого помещения", uk, "м²", str(area), None, "32.15", method="по площади"
        ),  # fmt: skip
        line("Холодное водоснабжение", vk, "м³", cold, "0.112", "48.67"),
        line("Горячее водоснабжение", uk, "м³", hot, "0.085", "231.40"),
        line("Водоотведение", vk, "м³", cold + hot, None, "39.22"),
        line(
            "Отопление", uk, "Гкал", "1.254", "0.031", "2650.33", recalc="-312.40", method="по ОДПУ"
        ),  # fmt: skip
        line("Электроснабжение (день)", es, "кВт·ч", 120 + v % 90, "4.1", "6.43"),
        line("Электроснабжение (ночь)", es, "кВт·ч", 64 + v % 40, None, "3.21"),
        line(
            "Обращение с ТКО",
            uk,
            "чел.",
            2,
            None,
            "156.70",
            coef="0.00",
            priv="78.35",
            method="по нормативу",
            explanation="льгота ветерана труда 50%",
        ),  # fmt: skip
        line("Капитальный ремонт", uk, "м²", str(area), None, "12.80", method="по площади"),
    ]
    charged_total = sum(Decimal(c["total"]) for c in charges)
    opening = Decimal("1520.40") if v % 3 else Decimal("-250.00")
    penalties = Decimal("37.12") if v % 3 else Decimal("0.00")
    payments = Decimal("1520.40") if v % 3 else Decimal("0.00")
    total_due = opening + charged_total + penalties - payments
    by_provider: dict[str, Decimal] = {}
    for c in charges:
        by_provider[c["provider"]] = by_provider.get(c["provider"], Decimal(0)) + Decimal(
            c["total"]
        )
    by_provider[uk] += opening + penalties - payments
    banks = {
        uk: ("ПАО Сбербанк", "044525225", "30101810400000000225", "40702810138250123017"),
        vk: ("АО «Альфа-Банк»", "044525593", "30101810200000000593", "40702810701300012345"),
        es: ("Банк ВТБ (ПАО)", "044525187", "30101810700000000187", "40702810900000054321"),
    }
    inns = {uk: ("6234012345", "623401001"), vk: ("6227000010", "622701001"),
            es: ("6229049014", "622901001")}  # fmt: skip
    payees = [
        {
            "name": name,
            "inn": inns[name][0],
            "kpp": inns[name][1],
            "bank": dict(zip(("name", "bic", "corr", "account"), banks[name], strict=True)),
            "amount": f"{by_provider[name]:.2f}",
            "purpose": f"Оплата ЖКУ за {3:02d}.2026, ЛС {1000100 + v}",
            "services": [c["service"] for c in charges if c["provider"] == name],
        }
        for name in (uk, vk, es)
    ]
    return {
        "version": SCHEMA_VERSION,
        "number": 2026030000 + v,
        "issued_at": "2026-04-01T09:00:00+03:00",
        "period": "2026-03-01",
        "due_date": "2026-04-15",
        "organization": {
            "name": "Общество с ограниченной ответственностью «Управляющая компания Уютный дом»",
            "inn": "6234012345",
            "kpp": "623401001",
            "ogrn": "1156234001234",
            "address": "390000, г. Рязань, ул. Ленина, д. 1, офис 12",
            "phones": ["+7 (4912) 20-30-40", "+7 (4912) 20-30-41 (диспетчерская, круглосуточно)"],
            "email": "info@uyutdom.example",
            "website": "uyutdom.example",
            "hours": "пн–чт 9:00–18:00, пт 9:00–17:00",
            "bank": dict(zip(("name", "bic", "corr", "account"), banks[uk], strict=True)),
        },
        "account": {
            "number": f"{1000100 + v}",
            "holder": {"last": last, "first": first, "middle": middle},
            "address": f"390000, г. Рязань, ул. Ленина, д. 10, кв. {flat}",
            "area": f"{area:.2f}",
            "living_area": f"{area - Decimal('18.20'):.2f}",
            "residents": 1 + v % 4,
            "link_code": "KX7M2P9T",
        },
        "payees": payees,
        "meters": [
            {
                "service": "Холодная вода",
                "serial": f"ХВ-{40210 + v}",
                "zone": "",
                "previous": f"{cold_prev}.000",
                "current": f"{cold_prev + cold}.000",
                "unit": "м³",
            },
            {
                "service": "Горячая вода",
                "serial": f"ГВ-{51877 + v}",
                "zone": "",
                "previous": f"{hot_prev}.000",
                "current": f"{hot_prev + hot}.000",
                "unit": "м³",
            },
            {
                "service": "Электроэнергия",
                "serial": f"Э-{7730012 + v}",
                "zone": "день",
                "previous": f"{el_day}",
                "current": f"{el_day + 120 + v % 90}",
                "unit": "кВт·ч",
            },
            {
                "service": "Электроэнергия",
                "serial": f"Э-{7730012 + v}",
                "zone": "ночь",
                "previous": f"{el_night}",
                "current": f"{el_night + 64 + v % 40}",
                "unit": "кВт·ч",
            },
        ],  # fmt: skip
        "charges": charges,
        "totals": {
            "opening": f"{opening:.2f}",
            "charges": f"{charged_total:.2f}",
            "recalculations": "-312.40",
            "penalties": f"{penalties:.2f}",
            "payments": f"{payments:.2f}",
            "total_due": f"{total_due:.2f}",
            "amount_individual": column("amount_individual"),
            "amount_common": column("amount_common"),
            "charged": column("charged"),
            "coefficient_amount": column("coefficient_amount"),
            "privileges": column("privileges"),
            "total_individual": column("total_individual"),
            "total_common": column("total_common"),
        },
        "recalculations": [
            {
                "service": "Отопление",
                "month": "2026-01-01",
                "amount": "-312.40",
                "reason": "Корректировка по показаниям ОДПУ за январь 2026 г.",
            },
        ],  # fmt: skip
        "reference": {
            "norms": [
                {
                    "service": "Холодное водоснабжение",
                    "unit": "м³/чел.",
                    "individual": "4.850",
                    "common": "0.028",
                },
                {
                    "service": "Горячее водоснабжение",
                    "unit": "м³/чел.",
                    "individual": "3.600",
                    "common": "0.021",
                },
                {
                    "service": "Электроснабжение",
                    "unit": "кВт·ч/чел.",
                    "individual": "93.000",
                    "common": "1.220",
                },
            ],
            "building": [
                {
                    "resource": "Холодная вода",
                    "reading": "184523.000",
                    "volume": "1812.400",
                    "unit": "м³",
                    "flats": "1760.150",
                    "common_property": "52.250",
                },
                {
                    "resource": "Тепловая энергия",
                    "reading": "9631.254",
                    "volume": "412.620",
                    "unit": "Гкал",
                    "flats": None,
                    "common_property": None,
                },
                {
                    "resource": "Электроэнергия",
                    "reading": "3352081.000",
                    "volume": "28450.000",
                    "unit": "кВт·ч",
                    "flats": "27120.000",
                    "common_property": "1330.000",
                },
            ],
        },  # fmt: skip
        "instalments": [],
        "notice": "Поверка счётчиков горячей воды в подъезде 2 — 20 апреля с 10:00 до 14:00.",
        "change": {
            "headline": "Сумма к оплате выросла на 1\u00a0234,56\u00a0₽ по сравнению с квитанцией "
            "за февраль 2026",
            "causes": [
                "Отопление: +812,40\u00a0₽ — тариф с 1 марта: 2\u00a0888,94 ₽ вместо "
                "2\u00a0650,40 ₽, +9,0 % — +812,40\u00a0₽",
                "Горячее водоснабжение: +310,16\u00a0₽ — расход 6,200 м³ вместо 4,100 м³ — "
                "+310,16\u00a0₽",
                "Холодное водоснабжение: +112,00\u00a0₽ — срок поверки счётчика истёк 10.01.2026 — "
                "начислено по среднему вместо показаний счётчика — +112,00\u00a0₽; поверьте "
                "счётчик и передайте показания",
            ],
            "lead": "Сумма к оплате выросла на 1\u00a0234,56\u00a0₽",
            "previous_month": "2026-02-01",
            "total": "1234.56",
            "services": [
                {
                    "name": "Отопление",
                    "amount": "812.40",
                    "sentences": [
                        "тариф с 1 марта: 2\u00a0888,94 ₽ вместо 2\u00a0650,40 ₽, +9,0 %"
                    ],
                    "meters": False,
                },
                {
                    "name": "Горячее водоснабжение",
                    "amount": "310.16",
                    "sentences": ["расход 6,200 м³ вместо 4,100 м³ — +310,16\u00a0₽"],
                    "meters": False,
                },
                {
                    "name": "Холодное водоснабжение",
                    "amount": "112.00",
                    "sentences": [
                        "срок поверки счётчика истёк 10.01.2026 — начислено по среднему "
                        "вместо показаний счётчика — +112,00\u00a0₽; поверьте счётчик и "
                        "передайте показания"
                    ],
                    "meters": True,
                },
            ],
        },
    }
