"""Shared pieces of management commands: choosing the organization."""

from django.core.management.base import CommandError

from kvartplata.registry.models import Organization


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
