"""App configuration of backoffice."""

from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "kvartplata.backoffice"
    label = "backoffice"
    verbose_name = "Бэк-офис"
