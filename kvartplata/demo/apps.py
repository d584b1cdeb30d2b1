"""App configuration of demo."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "kvartplata.demo"
    label = "demo"
    verbose_name = "Демо-данные"
