"""The maximum password length validator."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from kvartplata.users.validators import MaximumLengthValidator


def test_it_accepts_128_characters():
    MaximumLengthValidator(128).validate("a" * 128)


def test_it_refuses_129_characters():
    with pytest.raises(ValidationError) as error:
        MaximumLengthValidator(128).validate("a" * 129)
    assert "128" in error.value.messages[0]


def test_it_is_in_the_configured_policy():
    with pytest.raises(ValidationError):
        validate_password("Z" * 129 + "-long-phrase")
    assert "128" in MaximumLengthValidator().get_help_text()
