"""Management command: create or update the staff role groups (run after migrate).

«Операторы» (registry, readings, payments), «Бухгалтеры» (billing run, review, close, reports)
and «Администраторы» (both, and the staff).
"""

from django.core.management.base import BaseCommand, CommandError

from kvartplata.backoffice.services import (
    ROLE_ACCOUNTANT,
    ROLE_ADMINISTRATOR,
    ROLE_OPERATOR,
    staff_group_setup,
)

ROLES = {
    "operator": ROLE_OPERATOR,
    "accountant": ROLE_ACCOUNTANT,
    "administrator": ROLE_ADMINISTRATOR,
}


class Command(BaseCommand):
    help = "Создаёт или обновляет группы сотрудников: «Операторы», «Бухгалтеры», «Администраторы»."

    def add_arguments(self, parser):
        parser.add_argument(
            "--user",
            action="append",
            default=[],
            metavar="USERNAME",
            help="Добавить пользователя в группу роли (можно несколько раз).",
        )
        parser.add_argument(
            "--role",
            choices=sorted(ROLES),
            default="administrator",
            help="Роль для --user: operator, accountant или administrator (по умолчанию).",
        )

    def handle(self, *args, **options):
        try:
            group = staff_group_setup(usernames=options["user"], role=ROLES[options["role"]])
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        from django.contrib.auth.models import Group

        for name in (ROLE_OPERATOR, ROLE_ACCOUNTANT, ROLE_ADMINISTRATOR):
            count = Group.objects.get(name=name).permissions.count()
            self.stdout.write(f"Группа «{name}»: прав {count}.")
        if options["user"]:
            self.stdout.write(f"Добавлены в «{group.name}»: {', '.join(options['user'])}.")
