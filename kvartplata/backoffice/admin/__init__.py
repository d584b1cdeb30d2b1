"""The Django admin of the back office: the staff's view of every app's tables.

One module per app (registry, users, meters, billing, payments, receipts) and the shared
tenancy scoping, audit and big-table parts (mixins.py) and list filters (filters.py). The admin
is a staff face: it stands on the back office's floor, above every app it shows.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

# Importing a module registers its admins.
from kvartplata.backoffice.admin import (  # noqa: F401
    billing,
    history,
    meters,
    payments,
    receipts,
    registry,
    two_factor,
    users,
)

admin.site.site_header = _("Квартплата — бэк-офис")
admin.site.site_title = _("Квартплата — бэк-офис")
admin.site.index_title = _("Учёт, начисления и платежи")
