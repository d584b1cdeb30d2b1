"""Forms of the cabinet: linking an account, choosing an account, a month and a range of months."""

import re

from django import forms

from kvartplata.lib.periods import parse_period


class LinkForm(forms.Form):
    number = forms.CharField(
        label="Номер лицевого счёта",
        max_length=40,
        help_text="Напечатан в квитанции, например 0000100007.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"required": "Укажите номер лицевого счёта."},
    )
    proof = forms.CharField(
        label="Код привязки или сумма последней квитанции",
        max_length=40,
        help_text=(
            "Код привязки напечатан в каждой квитанции (8 знаков). Если в квитанции кода нет, "
            "укажите сумму «Итого к оплате» последней квитанции, например 1 234,56."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": "Укажите код привязки или сумму последней квитанции."},
    )

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
