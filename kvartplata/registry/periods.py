"""What the apps read of an organization's calendar: its bounds and its closed months.

The periods' states are moved by billing (billing.services); the readings of meters, the
payments' and billing's imports check their dates against these.
"""

import datetime
from decimal import Decimal

from django.conf import settings

from kvartplata.lib.ranges import DEFAULT_MAX_LINE_AMOUNT, Bounds, bounds_for
from kvartplata.registry.models import Organization, Period


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
