"""App configuration of payments."""

from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "kvartplata.payments"
    label = "payments"
    verbose_name = "Платежи"
