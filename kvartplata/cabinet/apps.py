"""App configuration of cabinet."""

from django.apps import AppConfig


class CabinetConfig(AppConfig):
    name = "kvartplata.cabinet"
    label = "cabinet"
    verbose_name = "Личный кабинет"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from kvartplata.lib import dbvalues

        # A number SQLite cannot give back as its column says never breaks a page.
        dbvalues.install()

        from kvartplata.cabinet.pagecache import renew_registry_stamp
        from kvartplata.registry.models import Building, Organization, Premises

        # The cached account pages show these rows but do not read them on every request.
        for model in (Organization, Building, Premises):
            for signal in (post_save, post_delete):
                signal.connect(
                    renew_registry_stamp,
                    sender=model,
                    dispatch_uid=f"cabinet-page-stamp-{model.__name__}-{signal is post_save}",
                )
