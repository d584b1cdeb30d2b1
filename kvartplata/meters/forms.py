"""Forms of readings entry, meter replacement and CSV import; the checks live in the services."""

from django import forms

from kvartplata.lib.periods import parse_period
from kvartplata.meters.services import ReadingEntry, Submission
from kvartplata.meters.validation import MAX_INPUT_LENGTH

CONFIRM_LABEL = "Подтверждаю показания"


def value_field_name(meter_id: int, zone: int) -> str:
    return f"m{meter_id}_{zone}"


def confirm_field_name(meter_id: int) -> str:
    return f"confirm_{meter_id}"


class ReadingsForm(forms.Form):
    """One form for all working meters: a text field per zone and a «confirm» tick per meter.

    Fields are plain text so that any input reaches the service's checks and their messages.
    """

    def __init__(self, *args, meters, **kwargs):
        super().__init__(*args, **kwargs)
        self.meters = list(meters)
        for meter, labels in self.meters:
            for zone, label in enumerate(labels, start=1):
                self.fields[value_field_name(meter.pk, zone)] = forms.CharField(
                    label=label or "Показания",
                    required=False,
                    # Longer input is refused by the service with a message, not cut off here.
                    max_length=MAX_INPUT_LENGTH * 4,
                    strip=True,
                    widget=forms.TextInput(
                        attrs={"inputmode": "decimal", "autocomplete": "off", "size": 12}
                    ),
                )
            self.fields[confirm_field_name(meter.pk)] = forms.BooleanField(
                label=CONFIRM_LABEL, required=False
            )

    def entries(self) -> list[ReadingEntry]:
        data = self.cleaned_data
        return [
            ReadingEntry(
                meter_id=meter.pk,
                values=tuple(
                    data.get(value_field_name(meter.pk, zone)) or ""
                    for zone in range(1, len(labels) + 1)
                ),
                confirm_high=bool(data.get(confirm_field_name(meter.pk))),
            )
            for meter, labels in self.meters
        ]

    def add_submission_errors(self, submission: Submission) -> None:
        if submission.form_error:
            self.add_error(None, submission.form_error)
        for (meter_id, zone), message in submission.errors.items():
            name = value_field_name(meter_id, max(zone, 1))
            self.add_error(name if name in self.fields else None, message)
        for meter_id, message in submission.confirmations.items():
            name = confirm_field_name(meter_id)
            self.add_error(name if name in self.fields else None, message)

    def value_fields(self, meter_id: int) -> list:
        return [self[name] for name in self.fields if name.startswith(f"m{meter_id}_")]

    def confirm_field(self, meter_id: int):
        return self[confirm_field_name(meter_id)]


class StaffReadingForm(forms.Form):
    """A reading of one meter for a month, entered by an operator."""

    month = forms.CharField(label="Месяц (ГГГГ-ММ)", max_length=7, help_text="Например, 2026-03.")
    value1 = forms.CharField(label="T1 / показания", max_length=MAX_INPUT_LENGTH * 4)
    value2 = forms.CharField(label="T2", max_length=MAX_INPUT_LENGTH * 4, required=False)
    value3 = forms.CharField(label="T3", max_length=MAX_INPUT_LENGTH * 4, required=False)
    confirm_high = forms.BooleanField(label=CONFIRM_LABEL, required=False)

    def clean_month(self):
        try:
            return parse_period(self.cleaned_data["month"].strip())
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc


class ImportForm(forms.Form):
    file = forms.FileField(label="Файл CSV с показаниями")


class ExportForm(forms.Form):
    month = forms.CharField(label="Месяц (ГГГГ-ММ)", max_length=7)

    def clean_month(self):
        try:
            return parse_period(self.cleaned_data["month"].strip())
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc


class ReplaceForm(forms.Form):
    """Replacement of a meter: final reading of the old one, data and initial reading of the new."""

    replaced_on = forms.DateField(label="Дата замены")
    final1 = forms.CharField(label="Конечные показания T1", max_length=MAX_INPUT_LENGTH * 4)
    final2 = forms.CharField(label="Конечные T2", max_length=MAX_INPUT_LENGTH * 4, required=False)
    final3 = forms.CharField(label="Конечные T3", max_length=MAX_INPUT_LENGTH * 4, required=False)
    serial_number = forms.CharField(label="Заводской номер нового прибора", max_length=40)
    model = forms.CharField(label="Модель", max_length=80, required=False)
    seal_number = forms.CharField(label="Номер пломбы", max_length=40, required=False)
    initial1 = forms.CharField(label="Начальные показания T1", max_length=MAX_INPUT_LENGTH * 4)
    initial2 = forms.CharField(
        label="Начальные T2", max_length=MAX_INPUT_LENGTH * 4, required=False
    )
    initial3 = forms.CharField(
        label="Начальные T3", max_length=MAX_INPUT_LENGTH * 4, required=False
    )
    verified_on = forms.DateField(label="Дата поверки")
    next_verification_on = forms.DateField(label="Следующая поверка")
