"""Export the charges of a month to CSV: `billing_export --period YYYY-MM [--out FILE]`."""

import csv
import sys

from django.core.management.base import BaseCommand

from kvartplata.billing.exchange import EXPORT_HEADER, export_rows
from kvartplata.registry.commands import organization_option, pick_organization, pick_period


class Command(BaseCommand):
    help = "Выгружает начисления месяца в CSV (разделитель «;», UTF-8)."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="ГГГГ-ММ")
        parser.add_argument("--out", help="файл (по умолчанию — стандартный вывод)")
        organization_option(parser)

    def handle(self, *args, period, out, organization, **options):
        org = pick_organization(organization)
        target = pick_period(org, period)
        stream = open(out, "w", newline="", encoding="utf-8") if out else sys.stdout  # noqa: SIM115
        try:
            writer = csv.writer(stream, delimiter=";", lineterminator="\n")
            writer.writerow(EXPORT_HEADER)
            count = 0
            for row in export_rows(target):
                writer.writerow(row)
                count += 1
        finally:
            if out:
                stream.close()
        if out:
            self.stdout.write(f"Выгружено строк: {count}.")
