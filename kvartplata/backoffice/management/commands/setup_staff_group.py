"""Management command: create or update the «Операторы» staff group (run after migrate)."""

from django.core.management.base import BaseCommand, CommandError

from kvartplata.backoffice.services import STAFF_GROUP_NAME, staff_group_setup


class Command(BaseCommand):
    help = "Создаёт или обновляет группу «Операторы» с правами сотрудника бэк-офиса."

    def add_arguments(self, parser):
        parser.add_argument(
            "--user",
            action="append",
            default=[],
            metavar="USERNAME",
            help="Добавить пользователя в группу (можно несколько раз).",
        )

    def handle(self, *args, **options):
        try:
            group = staff_group_setup(usernames=options["user"])
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        count = group.permissions.count()
        self.stdout.write(f"Группа «{STAFF_GROUP_NAME}»: прав {count}.")
