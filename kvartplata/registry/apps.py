"""App configuration of registry."""

from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "kvartplata.registry"
    label = "registry"
    verbose_name = "Реестр"
