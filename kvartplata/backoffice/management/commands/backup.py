"""Back up the database to a file: `backup --out FILE [--database-url URL]`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kvartplata.backoffice.backup import BackupError, database_backup, database_settings


class Command(BaseCommand):
    help = (
        "Сохраняет резервную копию базы в файл: PostgreSQL — архив pg_dump -Fc, "
        "SQLite — копия файла базы через online backup API."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="файл копии (не должен существовать)")
        parser.add_argument(
            "--database-url", help="другая база вместо DATABASE_URL (postgres://… или sqlite:///…)"
        )

    def handle(self, *args, out, database_url, **options):
        try:
            database = database_settings(database_url)
            path = database_backup(out=Path(out), database=database)
        except (BackupError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        size = path.stat().st_size
        self.stdout.write(f"Резервная копия сохранена: {path} ({size / 1024 / 1024:.1f} МБ).")
