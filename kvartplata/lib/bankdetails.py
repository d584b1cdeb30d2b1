"""Checks of Russian bank details (реквизиты): ИНН, КПП, БИК and the two 20-digit accounts.

One implementation used everywhere the details are entered: the model validators (back office
forms) and :func:`bank_details_errors` for importers, which checks the accounts against the БИК.

* ИНН: the check digits of the tax service (python-stdnum's ``stdnum.ru.inn``), 10 digits for an
  organization, 12 for a person.
* КПП: 9 characters — 4 digits (tax office code), 2 digits or capital Latin letters (reason
  code), 3 digits.
* The control key of an account against the БИК (Bank of Russia, «Порядок расчёта контрольного
  ключа в номере лицевого счёта»): 23 digits — the last three digits of the БИК for a
  settlement account, or «0» followed by the 5th–6th digits of the БИК for a correspondent
  account, then the 20-digit account — are multiplied by the weights 7, 1, 3, 7, 1, 3, …; the
  last digit of the sum of the products must be 0.
"""

import re

from django.core.exceptions import ValidationError
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.ru import inn as stdnum_inn

__all__ = [
    "FIELD_LABELS",
    "account_key_errors",
    "account_key_ok",
    "bank_details_errors",
    "validate_account20",
    "validate_bic",
    "validate_inn",
    "validate_kpp",
]

FIELD_LABELS = {
    "inn": "ИНН",
    "kpp": "КПП",
    "bic": "БИК",
    "correspondent_account": "Корреспондентский счёт",
    "settlement_account": "Расчётный счёт",
}
_WEIGHTS = ((7, 1, 3) * 8)[:23]
_KPP = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")
_DIGITS = re.compile(r"^\d+$")


def _digits(value: str, length: int) -> bool:
    return len(value) == length and bool(_DIGITS.match(value)) and value.isascii()


def validate_inn(value: str) -> None:
    """Raise ValidationError unless ``value`` is a 10- or 12-digit ИНН with valid check digits."""
    value = value or ""
    if not (_digits(value, 10) or _digits(value, 12)):
        raise ValidationError(
            "ИНН: нужно 10 цифр (организация) или 12 цифр (предприниматель), получено «%(value)s».",
            code="inn_format",
            params={"value": value},
        )
    try:
        stdnum_inn.validate(value)
    except (InvalidChecksum, InvalidFormat, InvalidLength):
        raise ValidationError(
            "ИНН «%(value)s»: неверные контрольные цифры — проверьте, нет ли опечатки.",
            code="inn_checksum",
            params={"value": value},
        ) from None


def validate_kpp(value: str) -> None:
    """Raise ValidationError unless ``value`` is a КПП: 4 digits, 2 digits/letters, 3 digits."""
    if not _KPP.match(value or "") or not value.isascii():
        raise ValidationError(
            "КПП: нужно 9 знаков — 4 цифры, 2 цифры или заглавные латинские буквы, 3 цифры; "
            "получено «%(value)s».",
            code="kpp_format",
            params={"value": value},
        )


def validate_bic(value: str) -> None:
    if not _digits(value or "", 9):
        raise ValidationError(
            "БИК: нужно 9 цифр, получено «%(value)s».", code="bic_format", params={"value": value}
        )


def validate_account20(value: str) -> None:
    if not _digits(value or "", 20):
        raise ValidationError(
            "Номер счёта: нужно 20 цифр, получено «%(value)s».",
            code="account_format",
            params={"value": value},
        )


def account_key_ok(account: str, bic: str, *, correspondent: bool = False) -> bool:
    """Whether the control key of a 20-digit ``account`` agrees with the 9-digit ``bic``."""
    if not (_digits(account, 20) and _digits(bic, 9)):
        return False
    prefix = "0" + bic[4:6] if correspondent else bic[-3:]
    digits = prefix + account
    return sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=True)) % 10 == 0


def bank_details_errors(
    *,
    inn: str = "",
    kpp: str = "",
    bic: str = "",
    correspondent_account: str = "",
    settlement_account: str = "",
    kpp_required: bool = False,
) -> dict[str, str]:
    """Every problem of a set of bank details, as {field: Russian message}; empty when all pass.

    For importers and for the models' ``clean``. A missing КПП is accepted unless
    ``kpp_required`` (an individual entrepreneur has none).
    """
    errors: dict[str, str] = {}

    def check(field, validator, value):
        try:
            validator(value)
        except ValidationError as exc:
            errors[field] = " ".join(exc.messages)

    check("inn", validate_inn, inn)
    if kpp or kpp_required:
        check("kpp", validate_kpp, kpp)
    check("bic", validate_bic, bic)
    check("correspondent_account", validate_account20, correspondent_account)
    check("settlement_account", validate_account20, settlement_account)
    if "bic" not in errors:
        keys = account_key_errors(
            bic=bic,
            correspondent_account=correspondent_account,
            settlement_account=settlement_account,
        )
        for field, message in keys.items():
            errors.setdefault(field, message)
    return errors


def account_key_errors(
    *, bic: str, correspondent_account: str, settlement_account: str
) -> dict[str, str]:
    """The accounts whose control key disagrees with the БИК, as {field: Russian message}.

    Accounts or a БИК of a wrong format are left to the format checks (no message here).
    """
    errors: dict[str, str] = {}
    if not _digits(bic or "", 9):
        return errors
    if _digits(correspondent_account or "", 20) and not account_key_ok(
        correspondent_account, bic, correspondent=True
    ):
        errors["correspondent_account"] = (
            f"Корреспондентский счёт «{correspondent_account}» не соответствует БИК «{bic}»: "
            "не сходится контрольный ключ — проверьте оба номера."
        )
    if _digits(settlement_account or "", 20) and not account_key_ok(settlement_account, bic):
        errors["settlement_account"] = (
            f"Расчётный счёт «{settlement_account}» не соответствует БИК «{bic}»: "
            "не сходится контрольный ключ — проверьте оба номера."
        )
    return errors
