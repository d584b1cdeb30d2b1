"""Build the demo world: `python manage.py demo [--accounts N] [--months M] [--if-empty]`."""

import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from kvartplata.demo import world as demo_world
from kvartplata.registry.models import Organization


class Command(BaseCommand):
    help = "Строит демонстрационный мир: организацию, дома, лицевые счета и историю за 24 месяца."

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=int, default=300)
        parser.add_argument("--months", type=int, default=24)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--if-empty", action="store_true", help="ничего не делать, если база уже заполнена"
        )
        parser.add_argument(
            "--via-import",
            action="store_true",
            help="построить через загрузку реестра: сгенерированная книга XLSX → registry_import",
        )

    def handle(self, *args, accounts, months, seed, if_empty, via_import=False, **options):
        if Organization.objects.exists():
            if if_empty:
                self.stdout.write("База уже заполнена: демо-данные не создаются.")
                self._print_logins()
                return
            raise CommandError("База уже заполнена. Удалите её или запустите с --if-empty.")
        if accounts < 20 or months < 1:
            raise CommandError("Нужно не меньше 20 счетов и 1 месяца.")
        started = time.monotonic()
        # The cycle logs every close; the demo closes 24 months and says so itself.
        logging.getLogger("kvartplata.billing").setLevel(logging.WARNING)
        if via_import:
            from kvartplata.demo.move_in import demo_move_in

            world = demo_move_in(accounts=accounts, seed=seed, log=self.stdout.write)
        else:
            world = demo_world.build(
                accounts=accounts, months=months, seed=seed, log=lambda s: self.stdout.write(s)
            )
        if connection.vendor == "postgresql":
            # A new world has no statistics yet: the first pages would be planned blind.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(f"Готово за {elapsed:.1f} с."))
        self.stdout.write(
            f"Второй лицевой счёт для привязки: № {world.spare_account.number}, "
            f"код с квитанции {world.spare_account.link_code}"
        )
        self._print_logins()

    def _print_logins(self):
        self.stdout.write("Житель:   логин demo,     пароль " + settings.DEMO_RESIDENT_PASSWORD)
        self.stdout.write("Оператор: логин operator, пароль " + settings.DEMO_STAFF_PASSWORD)
