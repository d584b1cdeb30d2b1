"""Signal receivers: authentication events go to the audit log, session clocks start at sign-in."""

import time

from allauth.account import signals as account_signals
from axes.signals import user_locked_out
from django.contrib.auth import signals as auth_signals
from django.dispatch import receiver

from kvartplata.users.audit import audit
from kvartplata.users.middleware import SEEN_KEY, STARTED_KEY


@receiver(auth_signals.user_logged_in, dispatch_uid="users_audit_login")
def on_logged_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[STARTED_KEY] = now
        request.session[SEEN_KEY] = now
    audit("login", request=request, user=user)


@receiver(auth_signals.user_logged_out, dispatch_uid="users_audit_logout")
def on_logged_out(sender, request, user, **kwargs):
    audit("logout", request=request, user=user)


@receiver(auth_signals.user_login_failed, dispatch_uid="users_audit_login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in credentials; only the login is kept.
    audit("login_failed", request=request, login=str(credentials.get("username", "")))


@receiver(account_signals.user_signed_up, dispatch_uid="users_audit_signup")
def on_signed_up(sender, request, user, **kwargs):
    audit("signup", request=request, user=user)


@receiver(account_signals.email_confirmed, dispatch_uid="users_audit_email_confirmed")
def on_email_confirmed(sender, request, email_address, **kwargs):
    audit("email_confirmed", request=request, user=email_address.user)


@receiver(account_signals.email_changed, dispatch_uid="users_audit_email_changed")
def on_email_changed(sender, request, user, from_email_address, to_email_address, **kwargs):
    audit("email_changed", request=request, user=user)


@receiver(account_signals.password_changed, dispatch_uid="users_audit_password_changed")
def on_password_changed(sender, request, user, **kwargs):
    audit("password_changed", request=request, user=user)


@receiver(account_signals.password_set, dispatch_uid="users_audit_password_set")
def on_password_set(sender, request, user, **kwargs):
    audit("password_set", request=request, user=user)


@receiver(account_signals.password_reset, dispatch_uid="users_audit_password_reset")
def on_password_reset(sender, request, user, **kwargs):
    audit("password_reset", request=request, user=user)


@receiver(account_signals.email_added, dispatch_uid="users_audit_email_added")
def on_email_added(sender, request, user, email_address, **kwargs):
    audit("email_added", request=request, user=user)


@receiver(user_locked_out, dispatch_uid="users_audit_locked_out")
def on_locked_out(sender, request, username, ip_address, **kwargs):
    audit("lockout", request=request, login=str(username or ""))
