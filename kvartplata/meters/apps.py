"""App configuration of meters."""

from django.apps import AppConfig


class MetersConfig(AppConfig):
    name = "kvartplata.meters"
    label = "meters"
    verbose_name = "Приборы учёта"
