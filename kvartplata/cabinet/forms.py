"""Forms of the cabinet: linking an account, choosing an account, a month and a range of months."""

import re

from django import forms

from kvartplata.lib.periods import parse_period
from kvartplata.registry.models import Organization

CODE = Organization.LinkProof.RECEIPT_CODE
TOTAL = Organization.LinkProof.RECEIPT_TOTAL
_CODE_HELP = (
    "Напечатан в квитанции рядом с номером лицевого счёта: «Код для подключения к личному "
    "кабинету», 8 знаков, например KX7M2P9T."
)
_TOTAL_HELP = "Сумма «Итого к оплате» последней квитанции, например 1 234,56."
# (label, help, message when empty, lead of the page) for each set of accepted proofs.
PROOF_WORDING = {
    frozenset({CODE}): (
        "Код для подключения к личному кабинету",
        _CODE_HELP,
        "Укажите код для подключения к личному кабинету из квитанции.",
        "Номер лицевого счёта и код для подключения к личному кабинету напечатаны в квитанции.",
    ),
    frozenset({TOTAL}): (
        "Сумма последней квитанции",
        _TOTAL_HELP,
        "Укажите сумму «Итого к оплате» последней квитанции.",
        "Номер лицевого счёта и сумма «Итого к оплате» напечатаны в квитанции.",
    ),
    frozenset({CODE, TOTAL}): (
        "Код для подключения к личному кабинету или сумма последней квитанции",
        f"{_CODE_HELP} Если его в квитанции нет, укажите сумму «Итого к оплате» последней "
        "квитанции, например 1 234,56.",
        "Укажите код для подключения к личному кабинету или сумму последней квитанции.",
        "Номер лицевого счёта и код для подключения к личному кабинету (или сумма к оплате) "
        "напечатаны в квитанции.",
    ),
}


def accepted_link_proofs() -> set[str]:
    """The proofs of linking that the organizations of this installation accept."""
    return set(Organization.objects.values_list("link_proof", flat=True).distinct())


class LinkForm(forms.Form):
    number = forms.CharField(
        label="Номер лицевого счёта",
        max_length=40,
        help_text="Напечатан в квитанции, например 0000100007.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"required": "Укажите номер лицевого счёта."},
    )
    proof = forms.CharField(
        label="Код для подключения к личному кабинету",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, accepted=None, **kwargs):
        """``accepted``: the proofs the organizations accept (``Organization.LinkProof``).

        The number does not say yet whose account it is, so the form offers the proofs that
        some organization accepts — with the wording printed on their receipts — and no other.
        """
        super().__init__(*args, **kwargs)
        if accepted is None:
            accepted = accepted_link_proofs()
        field = self.fields["proof"]
        field.label, field.help_text, required, self.lead = PROOF_WORDING[
            frozenset(accepted) or frozenset({Organization.LinkProof.RECEIPT_CODE})
        ]
        field.error_messages["required"] = required

    def clean_number(self):
        number = re.sub(r"[\s-]", "", self.cleaned_data["number"])
        if not re.fullmatch(r"\d{4,20}", number):
            raise forms.ValidationError("Номер лицевого счёта — от 4 до 20 цифр.")
        return number


class SwitchForm(forms.Form):
    account = forms.TypedChoiceField(label="Лицевой счёт", coerce=int)
    section = forms.CharField(required=False, max_length=40)

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = choices


def month_choices(periods) -> list[tuple[str, str]]:
    from kvartplata.lib.periods import period_label

    return [(f"{p.month:%Y-%m}", period_label(p.month)) for p in reversed(periods)]


def parse_month(value: str | None, allowed: set) -> tuple[object, str]:
    """A month from a query string: (date or None, error message or "")."""
    if value in (None, ""):
        return None, ""
    try:
        month = parse_period(value)
    except ValueError as exc:
        return None, str(exc)
    if month not in allowed:
        return None, "За выбранный месяц данных нет: показан последний месяц."
    return month, ""
