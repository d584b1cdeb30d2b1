"""Import charges computed by an external billing system: `billing_import FILE`."""

from django.core.management.base import BaseCommand, CommandError

from kvartplata.billing.exchange import ImportRefused, charges_import
from kvartplata.billing.services import BillingError
from kvartplata.registry.commands import organization_option, pick_organization


class Command(BaseCommand):
    help = "Загружает начисления открытого периода из CSV внешней биллинговой системы."

    def add_arguments(self, parser):
        parser.add_argument("file")
        organization_option(parser)

    def handle(self, *args, file, organization, **options):
        org = pick_organization(organization)
        try:
            with open(file, "rb") as stream:
                result = charges_import(organization=org, stream=stream)
        except OSError as exc:
            raise CommandError(f"Файл не читается: {exc}") from exc
        except ImportRefused as exc:
            raise CommandError("\n".join([str(exc), *exc.errors[:50]])) from exc
        except BillingError as exc:  # the period was closed while the file was being checked
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Загружено строк: {result['lines']}, счетов: {result['accounts']}.")
