"""Session idle and absolute timeouts (OWASP ASVS V3.3) for signed-in users."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout

STARTED_KEY = "kvartplata_session_started"
SEEN_KEY = "kvartplata_session_seen"
# Refresh the last-seen stamp at most once a minute, so that reads do not write the session.
SEEN_GRANULARITY = 60


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
