"""Two-factor sign-in of the back office: who needs a second factor and whether they gave it."""

import base64
from binascii import unhexlify

import segno
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe
from django_otp.plugins.otp_totp.models import TOTPDevice

CACHE_ATTR = "_office_has_totp_device"


def is_staff(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def is_verified(user) -> bool:
    """True when this session passed a TOTP check (django_otp.middleware.OTPMiddleware)."""
    check = getattr(user, "is_verified", None)
    return bool(check is not None and check())


def has_confirmed_device(request) -> bool:
    """Whether the signed-in user has a working authenticator; one query per request."""
    if not hasattr(request, CACHE_ATTR):
        user = request.user
        found = (
            user.is_authenticated
            and TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists()
        )
        setattr(request, CACHE_ATTR, found)
    return getattr(request, CACHE_ATTR)


def forget_device_state(request) -> None:
    if hasattr(request, CACHE_ATTR):
        delattr(request, CACHE_ATTR)


def second_factor_required(request) -> bool:
    """A staff member with an authenticator must use it; with OFFICE_REQUIRE_2FA everyone must."""
    return settings.OFFICE_REQUIRE_2FA or has_confirmed_device(request)


def is_satisfied(request) -> bool:
    """May this request use the back office as far as the second factor is concerned?"""
    user = request.user
    if not is_staff(user) or is_verified(user):
        return True
    return not second_factor_required(request)


def must_enrol(request) -> bool:
    """Staff who can only go on after setting up an authenticator (OFFICE_REQUIRE_2FA)."""
    return (
        is_staff(request.user) and settings.OFFICE_REQUIRE_2FA and not has_confirmed_device(request)
    )


def should_prompt(request) -> bool:
    """Staff without an authenticator see an invitation to set one up on every office page."""
    return is_staff(request.user) and not has_confirmed_device(request)


def base32_secret(device: TOTPDevice) -> str:
    """The key as authenticator apps want it typed in by hand."""
    return base64.b32encode(unhexlify(device.key)).decode("ascii").rstrip("=")


def qr_svg(uri: str) -> SafeString:
    """The otpauth URI as an inline SVG QR code; drawn here, nothing is fetched from outside."""
    code = segno.make(uri, error="m")
    svg = code.svg_inline(scale=5, border=4, dark="#000", light="#fff", title="QR-код")
    # segno's own output (no user input besides the URI it encodes): safe to embed.
    return mark_safe(svg)  # noqa: S308  # nosec B308 B703


def office_tool_path(path: str) -> bool:
    return path.startswith(tuple(settings.OFFICE_TOOL_PATH_PREFIXES))
