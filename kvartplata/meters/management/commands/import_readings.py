"""Load readings of an organization from a CSV file (docs/readings-csv.md) and print the report."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kvartplata.meters.imports import readings_import
from kvartplata.registry.models import Organization


class Command(BaseCommand):
    help = "Загрузка показаний из CSV: каждая строка проверяется отдельно, отчёт об отклонённых."

    def add_arguments(self, parser):
        parser.add_argument("path", help="Файл CSV.")
        parser.add_argument("--organization", type=int, required=True, help="id организации.")

    def handle(self, *args, **options):
        organization = Organization.objects.filter(pk=options["organization"]).first()
        if organization is None:
            raise CommandError("Нет организации с таким id.")
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"Нет файла {path}.")
        report = readings_import(
            organization=organization,
            content=path.read_bytes(),
            user=None,
            today=timezone.localdate(),
        )
        self.stdout.write(report.as_text())
        if report.error:
            raise CommandError(report.error)
