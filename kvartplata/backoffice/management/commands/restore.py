"""Restore the database from a backup file: `restore FILE [--database-url URL] [--noinput]`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kvartplata.backoffice.backup import BackupError, database_restore, database_settings


class Command(BaseCommand):
    help = (
        "Восстанавливает базу из резервной копии команды backup. Данные базы заменяются "
        "данными копии; остановите веб-сервер и обработчики очереди на это время."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="файл копии")
        parser.add_argument(
            "--database-url",
            help="восстановить в другую базу вместо DATABASE_URL (например, пустую для проверки)",
        )
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="не спрашивать подтверждения",
        )

    def handle(self, *args, file, database_url, interactive, **options):
        try:
            database = database_settings(database_url)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if interactive:
            answer = input(
                f"Данные базы {database.get('NAME')} будут заменены копией {file}. "
                "Введите «yes», чтобы продолжить: "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Восстановление отменено.")
        try:
            database_restore(source=Path(file), database=database)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"База восстановлена из {file}.")
