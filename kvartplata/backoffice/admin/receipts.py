"""Back office of receipts: issued payment documents and their mailing, shown and never edited."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kvartplata.backoffice.admin.mixins import (
    BigTableMixin,
    ReadOnlyMixin,
    ScopedRelatedFilter,
    TenantAdmin,
)
from kvartplata.receipts.models import Receipt, ReceiptDelivery


@admin.register(Receipt)
class ReceiptAdmin(BigTableMixin, ReadOnlyMixin, TenantAdmin):
    """An issued receipt is immutable: no add, change or delete, for superusers too."""

    list_display = ("number", "account", "month_display", "total_due", "issued_at")
    list_select_related = ("account",)
    list_filter = (("period", ScopedRelatedFilter),)
    # Newest first by the primary key: no sort over millions of receipts.
    ordering = ("-pk",)
    search_fields = ("=number", "=account__number")
    search_help_text = _("Номер квитанции или номер ЛС.")

    @admin.display(description=_("месяц"), ordering="month")
    def month_display(self, obj):
        return f"{obj.month:%m.%Y}"


@admin.register(ReceiptDelivery)
class ReceiptDeliveryAdmin(BigTableMixin, ReadOnlyMixin, TenantAdmin):
    organization_path = "receipt__organization"
    list_display = ("created_at", "receipt", "email", "status", "attempts", "sent_at")
    list_select_related = ("receipt",)
    list_filter = ("status",)
    search_fields = ("email", "=receipt__number", "=receipt__account__number")
