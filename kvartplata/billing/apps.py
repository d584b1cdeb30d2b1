"""App configuration of billing."""

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "kvartplata.billing"
    label = "billing"
    verbose_name = "Начисления"
