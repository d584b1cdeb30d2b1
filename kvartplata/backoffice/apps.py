"""App configuration of backoffice, and of the admin site it runs on."""

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class BackofficeConfig(AppConfig):
    name = "kvartplata.backoffice"
    label = "backoffice"
    verbose_name = "Бэк-офис"

    def ready(self):
        from kvartplata.backoffice import checks  # noqa: F401  (registers the system checks)


class OfficeAdminConfig(AdminConfig):
    """django.contrib.admin whose default site asks staff for a second factor."""

    default_site = "kvartplata.backoffice.sites.OfficeAdminSite"
