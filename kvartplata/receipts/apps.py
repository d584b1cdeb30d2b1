"""App configuration of receipts."""

from django.apps import AppConfig


class ReceiptsConfig(AppConfig):
    name = "kvartplata.receipts"
    label = "receipts"
    verbose_name = "Квитанции"
