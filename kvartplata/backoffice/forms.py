"""Forms of the back office sign-in: password plus, when set up, a one-time code."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django_otp.plugins.otp_totp.models import TOTPDevice

from kvartplata.backoffice.services import totp_token_check
from kvartplata.users.audit import audit

# Messages, not secrets (ruff reads "TOKEN = …" as a hardcoded password).
TOKEN_REQUIRED = "Введите шестизначный код из приложения-аутентификатора."  # noqa: S105
TOKEN_INVALID = "Код не подошёл. Введите текущий код из приложения-аутентификатора."  # noqa: S105
TOKEN_THROTTLED = "Слишком много неверных кодов подряд. Подождите минуту и попробуйте снова."  # noqa: S105


def token_field(*, required: bool) -> forms.CharField:
    return forms.CharField(
        label="Код из приложения",
        required=required,
        max_length=10,
        help_text="Шесть цифр из приложения-аутентификатора (если двухфакторный вход включён).",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 10}
        ),
        error_messages={"required": TOKEN_REQUIRED},
    )


class OfficeAuthenticationForm(AdminAuthenticationForm):
    """The admin sign-in, which also asks for the code once the staff member has an authenticator.

    Staff without one sign in with the password (and are invited to set one up) unless
    OFFICE_REQUIRE_2FA is on; then the site sends them to the set-up page before anything else.
    """

    otp_token = token_field(required=False)

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        if user is None:
            return cleaned
        # Has a confirmed device? Check its code; without one the password was enough.
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            return cleaned
        token = cleaned.get("otp_token") or ""
        if not token:
            raise forms.ValidationError(TOKEN_REQUIRED, code="token_required")
        check = totp_token_check(user=user, token=token)
        if check.device is None:
            audit("otp_failed", request=self.request, user=user, throttled=check.throttled)
            message = TOKEN_THROTTLED if check.throttled else TOKEN_INVALID
            raise forms.ValidationError(message, code="invalid_token")
        # django_otp marks the session verified on sign-in when the user carries otp_device.
        user.otp_device = check.device
        return cleaned


class TokenForm(forms.Form):
    """The code that confirms a newly set-up authenticator."""

    token = token_field(required=True)

    def clean_token(self):
        token = self.cleaned_data["token"].strip().replace(" ", "")
        if not token.isdigit() or len(token) not in (6, 8):
            raise forms.ValidationError(TOKEN_INVALID, code="invalid_token")
        return token
