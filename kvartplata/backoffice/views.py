"""Pages of the back office outside model admins: setting up two-factor sign-in."""

from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from kvartplata.backoffice import two_factor
from kvartplata.backoffice.forms import TOKEN_INVALID, TOKEN_THROTTLED, TokenForm
from kvartplata.backoffice.services import totp_device_confirm, totp_device_start
from kvartplata.users.audit import audit


@never_cache
@csrf_protect
def two_factor_view(request):
    """Staff set up an authenticator: QR code and otpauth URI, then a code confirms it."""
    user = request.user
    if not two_factor.is_staff(user):
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    # Replacing a working authenticator needs it first: a password alone must not do that.
    if two_factor.has_confirmed_device(request) and not two_factor.is_verified(user):
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))

    form = TokenForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "start":
            totp_device_start(user=user)
            audit("otp_device_started", request=request, user=user)
            return redirect("admin:two_factor")
        if action != "confirm":
            return redirect("admin:two_factor")
        form = TokenForm(request.POST)
        if form.is_valid():
            check = totp_device_confirm(user=user, token=form.cleaned_data["token"])
            if check.device is not None:
                otp_login(request, check.device)
                audit("otp_device_confirmed", request=request, user=user)
                messages.success(request, "Двухфакторный вход включён.")
                return redirect("admin:index")
            audit("otp_failed", request=request, user=user, throttled=check.throttled)
            form.add_error("token", TOKEN_THROTTLED if check.throttled else TOKEN_INVALID)
        status = 400

    pending = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    context = {
        **admin.site.each_context(request),
        "title": "Двухфакторный вход",
        "has_device": two_factor.has_confirmed_device(request),
        "pending": pending,
        "form": form,
    }
    if pending is not None:
        uri = pending.config_url
        context.update(
            uri=uri, qr_svg=two_factor.qr_svg(uri), secret=two_factor.base32_secret(pending)
        )
    return TemplateResponse(request, "backoffice/two_factor.html", context, status=status)
