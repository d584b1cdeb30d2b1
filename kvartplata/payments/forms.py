"""Forms of the payments back office: a registry upload and a manual match."""

from django import forms

from kvartplata.payments.models import Bank


class UploadForm(forms.Form):
    bank = forms.ModelChoiceField(label="Банк", queryset=Bank.objects.none(), empty_label=None)
    file = forms.FileField(
        label="Файл реестра",
        help_text="Текстовый файл с разделителем «;» и итоговой строкой; формат описан ниже.",
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank"].queryset = Bank.objects.filter(organization=organization)


class MatchForm(forms.Form):
    account_number = forms.RegexField(
        label="Номер ЛС",
        regex=r"^\d{4,20}$",
        error_messages={"invalid": "Номер лицевого счёта — от 4 до 20 цифр."},
    )
