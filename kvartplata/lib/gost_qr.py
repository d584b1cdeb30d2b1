"""The payment text of ГОСТ Р 56042-2014 («символы для оплаты»): fields in, validated text out.

The text is ``ST0001`` + encoding digit + separator + ``Key=Value`` fields joined by the
separator. The separator is normally ``|``; when some value contains ``|`` we pick another
character absent from every value and write it right after the header, as the standard allows
(the character after ``ST0001N`` *is* the separator), so values are never altered.

Pure: no Django, no domain. The bank details check their 300-byte mandatory block with it, the
receipts put it into their QR symbols (``receipts/qr.py``).
"""

import re

__all__ = [
    "HEADER",
    "MAX_MANDATORY_BYTES",
    "MandatoryBlockTooLong",
    "koi8r_safe",
    "payment_bytes",
    "payment_text",
]

HEADER = "ST0001"
ENCODINGS = {"cp1251": "1", "utf-8": "2", "koi8-r": "3"}
_CODECS = {"1": "cp1251", "2": "utf-8", "3": "koi8-r"}
_ENCODING_ALIASES = {
    "cp1251": "cp1251",
    "windows-1251": "cp1251",
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "koi8-r": "koi8-r",
    "koi8_r": "koi8-r",
}

REQUIRED = ("Name", "PersonalAcc", "BankName", "BIC", "CorrespAcc")
# Optional fields of the standard that we accept; anything else is a typo and is refused.
OPTIONAL = (
    "PayeeINN",
    "KPP",
    "Sum",
    "Purpose",
    "PersAcc",
    "LastName",
    "FirstName",
    "MiddleName",
    "PayerAddress",
    "PaymPeriod",
    "Category",
    "TechCode",
    "QuittId",
    "QuittDate",
    "AddAmount",
    "DocNo",
    "DocDate",
    "PayerINN",
)
_KNOWN = frozenset(REQUIRED + OPTIONAL)
# ГОСТ Р 56042-2014, 5.2: the mandatory block (header and the five required fields) ≤ 300 bytes.
MAX_MANDATORY_BYTES = 300
MAX_LENGTHS = {"Name": 160, "BankName": 45, "Purpose": 210, "PayerAddress": 210}
# Alternative separators, in order of preference; none can appear in a key or be "=".
SEPARATORS = "|#~^;`_!@$%&*+/\\<>"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def _digits(name: str, value: str, lengths: tuple[int, ...], what: str) -> None:
    if not value.isascii() or not value.isdigit() or len(value) not in lengths:
        raise ValueError(f"{name}: {what}, получено «{value}».")


def _validate(fields: dict[str, str]) -> None:
    for key in REQUIRED:
        if not fields.get(key):
            raise ValueError(f"Не заполнен обязательный реквизит {key}.")
    _digits("PersonalAcc", fields["PersonalAcc"], (20,), "нужно 20 цифр расчётного счёта")
    _digits("BIC", fields["BIC"], (9,), "нужно 9 цифр БИК")
    _digits("CorrespAcc", fields["CorrespAcc"], tuple(range(1, 21)), "нужно до 20 цифр")
    checks = {
        "PayeeINN": ((10, 12), "нужно 10 или 12 цифр ИНН"),
        "PayerINN": ((10, 12), "нужно 10 или 12 цифр ИНН"),
        "Sum": (tuple(range(1, 19)), "сумма в копейках, только цифры"),
        "AddAmount": (tuple(range(1, 19)), "сумма в копейках, только цифры"),
        "PaymPeriod": ((6,), "период в виде ММГГГГ"),
        "TechCode": ((2,), "нужно 2 цифры"),
    }
    for key, (lengths, what) in checks.items():
        if fields.get(key):
            _digits(key, fields[key], lengths, what)
    if fields.get("KPP") and (len(fields["KPP"]) != 9 or not fields["KPP"].isalnum()):
        raise ValueError(f"KPP: нужно 9 знаков, получено «{fields['KPP']}».")
    if fields.get("PaymPeriod") and not 1 <= int(fields["PaymPeriod"][:2]) <= 12:
        raise ValueError(f"PaymPeriod: неверный месяц в «{fields['PaymPeriod']}».")
    for key, limit in MAX_LENGTHS.items():
        if len(fields.get(key, "")) > limit:
            raise ValueError(f"{key}: не длиннее {limit} символов, получено {len(fields[key])}.")


def payment_text(fields: dict, *, encoding: str = "cp1251") -> str:
    """The ГОСТ Р 56042-2014 text: required fields in the standard's order, then the others.

    Optional fields keep the caller's order (the standard fixes none; the example of the
    standard lists them in its own order) and empty ones are omitted. Values are stripped and
    control characters become spaces. If a value cannot be encoded in ``encoding`` the text
    falls back to UTF-8 (digit ``2``). Bad fields raise ValueError with a Russian message.
    """
    codec = _ENCODING_ALIASES.get(encoding.lower())
    if codec is None:
        raise ValueError(f"Неизвестная кодировка «{encoding}»: допустимы cp1251, utf-8, koi8-r.")
    unknown = [key for key in fields if key not in _KNOWN]
    if unknown:
        raise ValueError(f"Неизвестные реквизиты QR-кода: {', '.join(map(str, unknown))}.")
    clean: dict[str, str] = {}
    for key in REQUIRED + tuple(key for key in fields if key not in REQUIRED):
        value = fields.get(key)
        value = "" if value is None else _CONTROL.sub(" ", str(value)).strip()
        if value:
            clean[key] = value
    _validate(clean)
    values = "".join(clean.values())
    separator = next((c for c in SEPARATORS if c not in values), None)
    if separator is None:
        raise ValueError("Значения реквизитов содержат все допустимые разделители.")
    if codec == "koi8-r":
        # KOI8-R was asked for (a bank's terminal reads only it): keep it, replace what it lacks.
        clean = {key: koi8r_safe(value) for key, value in clean.items()}
        values = "".join(clean.values())
        separator = next((c for c in SEPARATORS if c not in values), None)
        if separator is None:
            raise ValueError("Значения реквизитов содержат все допустимые разделители.")
    body = separator.join(f"{key}={value}" for key, value in clean.items())
    try:
        body.encode(codec)
    except UnicodeEncodeError:
        codec = "utf-8"
    text = f"{HEADER}{ENCODINGS[codec]}{separator}{body}"
    mandatory = separator.join(f"{key}={clean[key]}" for key in REQUIRED)
    size = len(f"{HEADER}{ENCODINGS[codec]}{separator}{mandatory}".encode(codec))
    if size > MAX_MANDATORY_BYTES:
        raise MandatoryBlockTooLong(
            f"Блок обязательных реквизитов QR-кода (наименование получателя, счёт, банк, БИК, "
            f"корр. счёт) занимает {size} байт, допустимо не более {MAX_MANDATORY_BYTES}: "
            "сократите наименование получателя или банка."
        )
    return text


class MandatoryBlockTooLong(ValueError):
    """The payee's name, account, bank, БИК and корр. счёт take more than 300 bytes."""


# Characters common in payee names that KOI8-R lacks, and their plain equivalents.
_KOI8R_SUBSTITUTES = str.maketrans(
    {
        "«": '"',
        "»": '"',
        "„": '"',
        "“": '"',
        "”": '"',
        "‘": "'",
        "’": "'",
        "–": "-",
        "—": "-",
        "−": "-",
        "№": "N",
        "\u00a0": " ",
        "\u202f": " ",
        "…": "...",
    }
)


def koi8r_safe(value: str) -> str:
    """``value`` with what KOI8-R cannot encode replaced: quotes, dashes, № by ASCII, else «?»."""
    value = value.translate(_KOI8R_SUBSTITUTES)
    return value.encode("koi8-r", errors="replace").decode("koi8-r")


def payment_bytes(text: str) -> bytes:
    """The bytes put into the QR code: the text in the encoding its header names."""
    if not text.startswith(HEADER) or text[6:7] not in _CODECS:
        raise ValueError("Текст платёжного QR-кода должен начинаться с ST0001 и цифры кодировки.")
    return text.encode(_CODECS[text[6]])
