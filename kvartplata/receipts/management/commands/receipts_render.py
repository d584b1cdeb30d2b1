"""Render a month's receipts to PDF files for the print shop.

`receipts_render --period YYYY-MM --out DIR [--jobs N] [--account NUMBER] [--organization ID]`

``--jobs`` worker processes render in parallel (default: every core of the machine). It ends
by printing the file count, the time since the command started (Python's and Django's own
start-up excluded: time the whole process for that) and the receipts per second.
"""

import os
import time
from decimal import Decimal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kvartplata.lib.commands import ProgressBar
from kvartplata.lib.money import format_volume
from kvartplata.receipts.services import receipts_render
from kvartplata.registry.commands import organization_option, pick_organization, pick_period


class Command(BaseCommand):
    help = "Выгружает квитанции месяца в PDF-файлы (по одному на лицевой счёт)."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="ГГГГ-ММ")
        parser.add_argument("--out", required=True, help="папка для файлов")
        parser.add_argument("--account", help="номер лицевого счёта (только его квитанция)")
        parser.add_argument(
            "--jobs",
            type=int,
            default=None,
            help="процессов отрисовки (по умолчанию — по числу ядер)",
        )
        organization_option(parser)

    def handle(self, *args, period, out, account, organization, jobs, **options):
        started = time.monotonic()
        if jobs is not None and not 1 <= jobs <= 256:
            raise CommandError("--jobs: от 1 до 256 процессов.")
        jobs = jobs or os.cpu_count() or 1
        org = pick_organization(organization)
        target = pick_period(org, period)
        if not target.is_closed:
            raise CommandError(f"Период {period} ещё не закрыт: квитанции не выпущены.")
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        bar = ProgressBar("Квитанции", enabled=options["verbosity"] > 0)
        try:
            count = receipts_render(
                period=target, out_dir=folder, account_number=account, progress=bar, jobs=jobs
            )
        finally:
            bar.close()
        if account and not count:
            raise CommandError(f"Квитанции по счёту {account} за {period} нет.")
        elapsed = max(time.monotonic() - started, 1e-6)
        seconds = format_volume(Decimal(f"{elapsed:.1f}"), 1)
        self.stdout.write(
            f"Файлов: {count} в {folder} за {seconds} с ({count / elapsed:.0f} в секунду, "
            f"процессов: {jobs})."
        )
