"""Load a registry file (docs/registry-format.md): check every line, then write all or nothing."""

from django.core.management.base import BaseCommand, CommandError

from kvartplata.backoffice.exchange.services import registry_import
from kvartplata.lib.periods import parse_period
from kvartplata.registry.commands import organization_option, pick_organization


class Command(BaseCommand):
    help = "Загрузка реестра (дома, помещения, ЛС, приборы, начальное сальдо) из XLSX или CSV."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Книга .xlsx, архив .zip с файлами CSV или папка с CSV.")
        organization_option(parser)
        parser.add_argument(
            "--month", help="Месяц перехода ГГГГ-ММ (по умолчанию — открытый период)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Только проверить и показать отчёт."
        )

    def handle(self, *args, **options):
        organization = pick_organization(options["organization"])
        month = None
        if options["month"]:
            try:
                month = parse_period(options["month"])
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        report = registry_import(
            organization=organization,
            source=options["file"],
            switch_month=month,
            dry_run=options["dry_run"],
        )
        self.stdout.write(report.as_text())
        if not report.ok:
            raise CommandError("Файл не загружен.")
