"""Write the accepted readings of an organization for a month as CSV (docs/readings-csv.md)."""

import sys

from django.core.management.base import BaseCommand, CommandError

from kvartplata.lib.periods import parse_period
from kvartplata.meters.imports import readings_export
from kvartplata.registry.models import Organization


class Command(BaseCommand):
    help = "Выгрузка принятых показаний за месяц в CSV."

    def add_arguments(self, parser):
        parser.add_argument("--organization", type=int, required=True, help="id организации.")
        parser.add_argument("--month", required=True, help="Месяц ГГГГ-ММ.")
        parser.add_argument("--output", help="Файл; без него — в стандартный вывод.")

    def handle(self, *args, **options):
        organization = Organization.objects.filter(pk=options["organization"]).first()
        if organization is None:
            raise CommandError("Нет организации с таким id.")
        try:
            month = parse_period(options["month"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        text = readings_export(organization=organization, month=month)
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8-sig", newline="") as out:
                out.write(text)
        else:
            sys.stdout.write(text)
