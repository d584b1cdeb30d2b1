"""App configuration of cabinet."""

from django.apps import AppConfig


class CabinetConfig(AppConfig):
    name = "kvartplata.cabinet"
    label = "cabinet"
    verbose_name = "Личный кабинет"
