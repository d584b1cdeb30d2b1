"""What other apps and commands read of an organization's periods: bounds, closed months, a period.

The one place outside billing's own code that queries `Period`, so that the apps below billing
(meters) have a single, named door up to it (listed in the floors test).
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.management.base import CommandError

from kvartplata.billing.models import Period
from kvartplata.lib.periods import parse_period
from kvartplata.lib.ranges import DEFAULT_MAX_LINE_AMOUNT, Bounds, bounds_for
from kvartplata.registry.models import Organization


def organization_bounds(organization: Organization, *, today: datetime.date) -> Bounds:
    """The bounds of an organization: its first period, today, settings.MAX_LINE_AMOUNT."""
    first = (
        Period.objects.filter(organization=organization)
        .order_by("month")
        .values_list("month", flat=True)
        .first()
    )
    return bounds_for(
        first_month=first,
        today=today,
        max_amount=Decimal(getattr(settings, "MAX_LINE_AMOUNT", DEFAULT_MAX_LINE_AMOUNT)),
    )


def closed_months(organization: Organization) -> frozenset[datetime.date]:
    """The months of the organization's closed periods."""
    return frozenset(
        Period.objects.filter(organization=organization, state=Period.State.CLOSED).values_list(
            "month", flat=True
        )
    )


def pick_period(organization: Organization, value: str) -> Period:
    """A management command's period argument («2026-03»), or a CommandError in Russian."""
    try:
        month = parse_period(value)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    period = Period.objects.filter(organization=organization, month=month).first()
    if period is None:
        raise CommandError(f"Периода {value} нет.")
    return period
