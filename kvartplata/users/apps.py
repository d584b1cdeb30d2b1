"""App configuration of users."""

from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "kvartplata.users"
    label = "users"
    verbose_name = "Пользователи"

    def ready(self):
        # Connects the audit-log receivers.
        from kvartplata.users import signals  # noqa: F401
