"""Shared pieces of management commands: choosing the organization and its period."""

from django.core.management.base import CommandError

from kvartplata.lib.periods import parse_period
from kvartplata.registry.models import Organization, Period


def organization_option(parser) -> None:
    parser.add_argument(
        "--organization", type=int, help="id организации (обязателен, если их несколько)"
    )


def pick_organization(organization_id: int | None) -> Organization:
    organizations = Organization.objects.all()
    if organization_id is not None:
        organizations = organizations.filter(id=organization_id)
    found = list(organizations[:2])
    if not found:
        raise CommandError("Организация не найдена.")
    if len(found) > 1:
        raise CommandError("Организаций несколько: укажите --organization.")
    return found[0]


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
