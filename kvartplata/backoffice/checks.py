"""System checks of the back office's security settings (shown by `check --deploy`)."""

from django.conf import settings
from django.core.checks import Info, Tags, register


@register(Tags.security, deploy=True)
def check_office_two_factor(app_configs, **kwargs):
    # Info, not a warning: switching it on is a step after every operator has enrolled.
    if getattr(settings, "OFFICE_REQUIRE_2FA", False):
        return []
    return [
        Info(
            "OFFICE_REQUIRE_2FA is off: staff without an authenticator sign in to the back "
            "office with a password only.",
            hint="Set OFFICE_REQUIRE_2FA=1 once every operator has set up an authenticator "
            "(docs/security.md).",
            id="kvartplata.I001",
        )
    ]
