"""Password validators that Django lacks: an upper bound on the length (OWASP ASVS 2.1.2)."""

from django.core.exceptions import ValidationError
from django.utils.translation import ngettext


class MaximumLengthValidator:
    """Refuse passwords longer than max_length; hashing megabytes of input is a DoS vector."""

    def __init__(self, max_length: int = 128):
        self.max_length = max_length

    def validate(self, password: str, user=None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                ngettext(
                    "Пароль слишком длинный: не больше %(max_length)d символа.",
                    "Пароль слишком длинный: не больше %(max_length)d символов.",
                    self.max_length,
                ),
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return ngettext(
            "Пароль может быть длиной до %(max_length)d символа.",
            "Пароль может быть длиной до %(max_length)d символов.",
            self.max_length,
        ) % {"max_length": self.max_length}
