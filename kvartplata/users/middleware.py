"""Users' middleware: session idle and absolute timeouts (OWASP ASVS V3.3), staff write audit."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout

from kvartplata.users.audit import audit

STARTED_KEY = "kvartplata_session_started"
SEEN_KEY = "kvartplata_session_seen"
# Refresh the last-seen stamp at most once a minute, so that reads do not write the session.
SEEN_GRANULARITY = 60
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SessionTimeoutMiddleware:
    """Signs a user out after SESSION_IDLE_TIMEOUT of silence or SESSION_COOKIE_AGE in total."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            self.check(request)
        return self.get_response(request)

    def check(self, request) -> None:
        now = int(time.time())
        session = request.session
        started = session.get(STARTED_KEY)
        seen = session.get(SEEN_KEY)
        if started is None or seen is None:
            # First request after sign-in (Django cycled the key and kept the data).
            session[STARTED_KEY] = started or now
            session[SEEN_KEY] = now
            return
        idle = now - seen > settings.SESSION_IDLE_TIMEOUT
        expired = now - started > settings.SESSION_COOKIE_AGE
        if idle or expired:
            logout(request)
            messages.info(request, "Сеанс завершён из-за долгого бездействия. Войдите снова.")
            return
        if now - seen >= SEEN_GRANULARITY:
            session[SEEN_KEY] = now


class StaffAuditMiddleware:
    """Every write request of a staff member goes to the audit log: who, what, when, outcome.

    This covers the office tools and any admin action generically; admin model changes are
    logged in more detail (fields changed) by backoffice.admin.mixins.AuditLogMixin.
    Request bodies are never logged: they may hold passwords or personal data.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in UNSAFE_METHODS:
            return self.get_response(request)
        # Resolve the user now: a sign-out during the request replaces request.user.
        user = request.user
        if not (user.is_authenticated and user.is_staff):
            return self.get_response(request)
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        audit(
            "staff_request",
            request=request,
            user=user,
            method=request.method,
            path=repr(request.path),
            view=(match.view_name if match else "-") or "-",
            status=response.status_code,
        )
        return response
