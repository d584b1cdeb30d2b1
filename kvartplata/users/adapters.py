"""The allauth adapter: Russian messages, consent recorded at sign-up, mail sent by the queue."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.urls import reverse
from django.utils import timezone

from kvartplata.users.clientip import client_ip
from kvartplata.users.tasks import email_send_on_commit


class AccountAdapter(DefaultAccountAdapter):
    # Allauth's Russian catalogue is uneven; the messages residents see are worded here.
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "email_taken": "Этот адрес e-mail уже зарегистрирован. Войдите или восстановите пароль.",
        "username_taken": "Этот логин уже занят. Выберите другой.",
        "username_blacklisted": "Этот логин зарезервирован. Выберите другой.",
        "username_password_mismatch": "Неверный логин или пароль.",
        "invalid_login": "Неверный логин или пароль.",
        "too_many_login_attempts": "Слишком много неудачных попыток входа. Попробуйте позже.",
        "rate_limited": "Слишком много запросов подряд. Подождите немного и повторите.",
        "enter_current_password": "Введите текущий пароль.",
        "incorrect_password": "Неверный пароль.",
        "invalid_password_reset": "Ссылка для смены пароля недействительна или устарела.",
        "duplicate_email": "Этот адрес уже указан в вашей учётной записи.",
        "same_as_current": "Новое значение должно отличаться от текущего.",
    }

    def get_client_ip(self, request) -> str:
        # The address a trusted proxy reports (users.clientip), as axes and the audit see it.
        return client_ip(request) or super().get_client_ip(request)

    def save_user(self, request, user, form, commit=True):
        # The consent to personal-data processing (152-FZ) is recorded with its text version.
        user.consent_version = settings.CONSENT_VERSION
        user.consent_at = timezone.now()
        return super().save_user(request, user, form, commit=commit)

    def get_password_change_redirect_url(self, request) -> str:
        return reverse("users:profile")

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # Rendered here, inside the request and the user's language; sent by a worker.
        request = allauth_context.request
        ctx = {
            "request": request,
            "email": email,
            "current_site": get_current_site(request),
            "site_name": "Квартплата",
            "site_url": settings.SITE_URL,
        }
        ctx.update(context)
        message = self.render_mail(template_prefix, email, ctx)
        email_send_on_commit(message)
