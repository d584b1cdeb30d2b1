"""Export an organization's registry in the format the importer reads (docs/registry-format.md)."""

from django.core.management.base import BaseCommand

from kvartplata.backoffice.exchange.services import registry_export
from kvartplata.registry.commands import organization_option, pick_organization


class Command(BaseCommand):
    help = "Выгрузка реестра организации в XLSX (.xlsx), архив CSV (.zip) или папку с CSV."

    def add_arguments(self, parser):
        parser.add_argument("target", help="Файл .xlsx, архив .zip или папка для файлов CSV.")
        organization_option(parser)

    def handle(self, *args, **options):
        organization = pick_organization(options["organization"])
        registry_export(organization=organization, target=options["target"])
        self.stdout.write(f"Реестр выгружен: {options['target']}")
