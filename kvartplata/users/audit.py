"""The audit trail of authentication events: one line per event on the "kvartplata.audit" logger."""

import logging

from django.utils import timezone

from kvartplata.users.clientip import client_ip as request_client_ip

logger = logging.getLogger("kvartplata.audit")


def client_ip(request) -> str:
    """The client's address as the throttling sees it (users.clientip), so that both agree."""
    if request is None:
        return "-"
    return request_client_ip(request) or "-"


def audit(event: str, *, request=None, user=None, login: str = "", **details) -> None:
    """Log who did what, when and from where; never passwords or tokens."""
    user_id = getattr(user, "pk", None)
    username = login or getattr(user, "username", "") or "-"
    extra = "".join(f" {key}={value}" for key, value in sorted(details.items()))
    logger.info(
        "event=%s user_id=%s login=%r ip=%s at=%s%s",
        event,
        user_id if user_id is not None else "-",
        username,
        client_ip(request),
        timezone.now().isoformat(timespec="seconds"),
        extra,
        extra={
            "event": event,
            "user_id": user_id,
            "login": username,
            "ip": client_ip(request),
        },
    )
