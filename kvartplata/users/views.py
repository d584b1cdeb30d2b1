"""Views of the resident's profile («Мой профиль») and of the activation resend."""

import math

from allauth.account.internal.flows.email_verification import (
    send_verification_email_to_address,
)
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from kvartplata.users import services
from kvartplata.users.forms import RESEND_SALT, AccountDeleteForm, ProfileForm
from kvartplata.users.models import AccountLink
from kvartplata.users.tasks import email_send_on_commit

# The resend button lives on the sign-in page right after the password was typed.
RESEND_TOKEN_MAX_AGE = 3600


@never_cache
@login_required
def profile(request):
    user = request.user
    if request.method == "POST":
        form = ProfileForm(request.POST, instance=user)
        if form.is_valid():
            services.user_profile_update(user=user, **form.cleaned_data)
            messages.success(request, "Изменения сохранены.")
            return redirect("users:profile")
        # The instance was touched by validation; show the stored values elsewhere on the page.
        user.refresh_from_db()
    else:
        form = ProfileForm(instance=user)
    links = AccountLink.objects.filter(user=user).select_related(
        "account__organization", "account__premises__building"
    )
    addresses = EmailAddress.objects.filter(user=user).order_by("-primary", "email")
    return render(
        request,
        "users/profile.html",
        {"form": form, "links": links, "addresses": addresses},
    )


@require_POST
@login_required
def link_remove(request, link_id: int):
    link = get_object_or_404(AccountLink, pk=link_id, user=request.user)
    number = link.account.number
    services.account_link_remove(link=link, request=request)
    messages.success(request, f"Лицевой счёт {number} отвязан от вашего кабинета.")
    return redirect("users:profile")


@never_cache
@login_required
def account_delete(request):
    if request.method == "POST":
        form = AccountDeleteForm(request.POST, user=request.user)
        if form.is_valid():
            user = request.user
            logout(request)
            farewell = services.user_delete(user=user, request=request)
            if farewell is not None:
                email_send_on_commit(farewell)
            messages.success(request, "Ваша учётная запись и персональные данные удалены.")
            return redirect("account_login")
    else:
        form = AccountDeleteForm(user=request.user)
    return render(request, "users/account_delete.html", {"form": form})


@require_POST
def activation_resend(request):
    try:
        user_pk = signing.loads(
            request.POST.get("token", ""), salt=RESEND_SALT, max_age=RESEND_TOKEN_MAX_AGE
        )
    except signing.BadSignature:
        messages.error(request, "Не удалось отправить письмо: войдите ещё раз и повторите.")
        return redirect("account_login")
    user = get_user_model().objects.filter(pk=user_pk).first()
    address = (
        EmailAddress.objects.filter(user=user, verified=False).order_by("-primary").first()
        if user is not None
        else None
    )
    if address is None:
        messages.info(request, "Учётная запись уже активирована. Войдите с логином и паролем.")
        return redirect("account_login")
    if send_verification_email_to_address(request, address):
        messages.success(
            request,
            "Мы отправили письмо со ссылкой для активации ещё раз. Проверьте почту, "
            "в том числе папку «Спам».",
        )
    else:
        messages.warning(
            request,
            "Письмо уже было отправлено несколько минут назад. Проверьте почту, в том числе "
            "папку «Спам», или повторите чуть позже.",
        )
    return redirect("account_login")


def lockout(request, original_response=None, credentials=None):
    """The answer of django-axes to a login and address that failed too often."""
    minutes = math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    return render(request, "account/lockout.html", {"minutes": minutes}, status=429)
