"""Send the reminder e-mails now (what the daily task does), optionally as of another day."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kvartplata.meters.tasks import send_reminders


class Command(BaseCommand):
    help = "Напоминания о передаче показаний и о сроке поверки (не чаще раза в месяц)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="День, на который проверять (ГГГГ-ММ-ДД).")

    def handle(self, *args, **options):
        today = timezone.localdate()
        if options["date"]:
            try:
                today = date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError("Дата в виде ГГГГ-ММ-ДД, например 2026-03-15.") from exc
        sent = send_reminders(today=today)
        self.stdout.write(
            f"Отправлено: об открытии приёма — {sent['window_open']}, "
            f"о поверке — {sent['verification_due']}."
        )
