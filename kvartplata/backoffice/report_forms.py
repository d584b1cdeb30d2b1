"""Filters of the reports: a range of months of the organization, a grouping, a threshold."""

from decimal import Decimal, InvalidOperation

from django import forms

from kvartplata.backoffice.reports import TURNOVER_BY
from kvartplata.lib.periods import parse_period, period_label

FORMATS = [("html", "на экране"), ("xlsx", "Excel (.xlsx)"), ("csv", "CSV")]


class ReportForm(forms.Form):
    first = forms.ChoiceField(label="С месяца")
    last = forms.ChoiceField(label="По месяц")
    format = forms.ChoiceField(label="Вид", choices=FORMATS, required=False)

    def __init__(self, data, *, months, **kwargs):
        super().__init__(data, **kwargs)
        choices = [(f"{m:%Y-%m}", period_label(m)) for m in reversed(months)]
        self.fields["first"].choices = choices
        self.fields["last"].choices = choices
        for name in ("first", "last"):
            self.fields[name].error_messages["invalid_choice"] = (
                "Выберите месяц из списка: за другие месяцы данных нет."
            )

    def clean_first(self):
        return parse_period(self.cleaned_data["first"])

    def clean_last(self):
        return parse_period(self.cleaned_data["last"])

    def clean(self):
        data = super().clean()
        if data.get("first") and data.get("last") and data["first"] > data["last"]:
            self.add_error("last", "Конец периода раньше его начала.")
        return data


def building_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Дом",
        required=False,
        error_messages={"invalid_choice": "Выберите дом из списка."},
    )


def set_buildings(form, buildings) -> None:
    form.fields["building"].choices = [("", "все дома")] + [
        (str(b.id), f"{b.street}, д. {b.house}") for b in buildings
    ]


class TurnoverForm(ReportForm):
    by = forms.ChoiceField(
        label="Разрез", choices=list(TURNOVER_BY.items()), required=False, initial="account"
    )
    building = building_field()

    def __init__(self, data, *, months, buildings=(), **kwargs):
        super().__init__(data, months=months, **kwargs)
        set_buildings(self, buildings)


class DebtorsForm(forms.Form):
    month = forms.ChoiceField(label="На месяц")
    min_debt = forms.CharField(label="Долг от, ₽", required=False, max_length=20)
    building = building_field()
    format = forms.ChoiceField(label="Вид", choices=FORMATS, required=False)

    def __init__(self, data, *, months, buildings=(), **kwargs):
        super().__init__(data, **kwargs)
        set_buildings(self, buildings)
        self.fields["month"].choices = [(f"{m:%Y-%m}", period_label(m)) for m in reversed(months)]
        self.fields["month"].error_messages["invalid_choice"] = (
            "Выберите месяц из списка: за другие месяцы данных нет."
        )

    def clean_month(self):
        return parse_period(self.cleaned_data["month"])

    def clean_min_debt(self):
        raw = (self.cleaned_data.get("min_debt") or "").replace(" ", "").replace(",", ".")
        if not raw:
            return Decimal("0.00")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise forms.ValidationError(
                "Введите сумму в рублях, например 1000 или 1000,50."
            ) from None
        if not value.is_finite() or value < 0 or value > Decimal("100000000"):
            raise forms.ValidationError("Сумма — от 0 до 100 000 000 ₽.")
        return value.quantize(Decimal("0.01"))
