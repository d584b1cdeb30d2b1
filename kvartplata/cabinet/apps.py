"""App configuration of cabinet."""

from django.apps import AppConfig


class CabinetConfig(AppConfig):
    name = "kvartplata.cabinet"
    label = "cabinet"
    verbose_name = "Личный кабинет"

    def ready(self):
        from kvartplata.lib import dbvalues

        # A number SQLite cannot give back as its column says never breaks a page.
        dbvalues.install()
