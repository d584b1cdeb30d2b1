"""Forms of the resident's identity: sign-in, sign-up, reset, profile, account deletion."""

import re

from allauth.account import forms as allauth_forms
from allauth.account.adapter import get_adapter
from allauth.account.internal.userkit import filter_users_by_email
from allauth.account.utils import has_verified_email
from django import forms
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator

EMAIL_MAX_LENGTH = 254
RESEND_SALT = "kvartplata.users.activation-resend"
NOT_ACTIVATED = (
    "Учётная запись ещё не активирована. Перейдите по ссылке из письма, которое мы отправили "
    "при регистрации, или запросите письмо ещё раз."
)
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()\-]{5,18}[0-9]$")


def _limit_email(field: forms.Field) -> None:
    # The model column holds 254 characters; a longer address must be refused, not truncated.
    field.max_length = EMAIL_MAX_LENGTH
    field.validators.append(MaxLengthValidator(EMAIL_MAX_LENGTH))
    field.widget.attrs["maxlength"] = str(EMAIL_MAX_LENGTH)


def _label(form: forms.Form, name: str, label: str, placeholder: str = "") -> None:
    if name in form.fields:
        field = form.fields[name]
        field.label = label
        field.widget.attrs["placeholder"] = placeholder or ""


class LoginForm(allauth_forms.LoginForm):
    """Sign-in by login and password; an account that is not activated is told so."""

    unverified_user = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _label(self, "login", "Логин")
        _label(self, "password", "Пароль")
        self.fields["login"].max_length = 150
        self.fields["password"].help_text = ""

    def clean(self):
        cleaned_data = super().clean()
        user = getattr(self, "user", None)
        if not self.errors and user is not None and not has_verified_email(user):
            # Only someone who typed the right password learns that the login exists.
            self.unverified_user = user
            raise ValidationError(NOT_ACTIVATED, code="not_activated")
        return cleaned_data

    @property
    def resend_token(self) -> str:
        """Proof that the password was right, so that the resend button needs no password."""
        if self.unverified_user is None:
            return ""
        return signing.dumps(self.unverified_user.pk, salt=RESEND_SALT)


class SignupForm(allauth_forms.SignupForm):
    """Login, e-mail, password twice and the consent to personal-data processing."""

    consent = forms.BooleanField(
        label="Я даю согласие на обработку моих персональных данных",
        required=True,
        error_messages={
            "required": "Без согласия на обработку персональных данных регистрация невозможна."
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _label(self, "username", "Логин")
        _label(self, "email", "Электронная почта", "name@example.ru")
        _label(self, "password1", "Пароль")
        _label(self, "password2", "Пароль ещё раз")
        self.fields["username"].help_text = "От 3 до 150 символов: буквы, цифры и знаки @ . + - _"
        _limit_email(self.fields["email"])
        self.fields["email"].help_text = "На этот адрес придёт ссылка для активации."

    def clean_email(self):
        value = super().clean_email()
        # Also compare with addresses entered by staff, which may not be lower-cased.
        if value and get_user_model().objects.filter(email__iexact=value).exists():
            raise get_adapter().validation_error("email_taken")
        return value


class ResetPasswordForm(allauth_forms.ResetPasswordForm):
    """Same answer whether the address is known or not."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _label(self, "email", "Электронная почта", "name@example.ru")
        _limit_email(self.fields["email"])

    def clean_email(self):
        email = get_adapter().clean_email(self.cleaned_data["email"].lower())
        self.users = filter_users_by_email(
            email, is_active=True, prefer_verified=True, for_login=True
        )
        return email


class ProfileForm(forms.ModelForm):
    """Name, middle name, phone and the e-mailed receipts switch."""

    class Meta:
        model = get_user_model()
        fields = ["last_name", "first_name", "middle_name", "phone", "receipts_by_email"]
        labels = {
            "last_name": "Фамилия",
            "first_name": "Имя",
            "middle_name": "Отчество",
            "phone": "Телефон",
            "receipts_by_email": "Получать квитанции по e-mail",
        }
        help_texts = {
            "phone": "Например, +7 912 345-67-89",
            "receipts_by_email": "Квитанция в PDF придёт на почту после закрытия месяца.",
        }

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone and not PHONE_RE.match(phone):
            raise ValidationError(
                "Введите номер телефона цифрами, например +7 912 345-67-89.", code="invalid"
            )
        return phone

    def clean(self):
        cleaned_data = super().clean()
        for name in ("last_name", "first_name", "middle_name"):
            value = cleaned_data.get(name)
            if value is not None:
                cleaned_data[name] = value.strip()
        return cleaned_data


class AddEmailForm(allauth_forms.AddEmailForm):
    """A new e-mail address, confirmed by a link sent to it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _label(self, "email", "Новый адрес электронной почты", "name@example.ru")
        _limit_email(self.fields["email"])


class AccountDeleteForm(forms.Form):
    """Deletion of the user account asks for the password once more."""

    password = forms.CharField(
        label="Пароль",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError("Неверный пароль.", code="incorrect_password")
        return password
