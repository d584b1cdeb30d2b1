"""Back office of payments: banks and their file layouts, imported registry files, payments."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kvartplata.backoffice.admin.mixins import (
    BigTableMixin,
    ReadOnlyMixin,
    ScopedRelatedFilter,
    TenantAdmin,
)
from kvartplata.payments.models import Bank, Payment, PaymentFile


@admin.register(Bank)
class BankAdmin(TenantAdmin):
    list_display = ("name", "code", "encoding", "delimiter", "date_format")
    search_fields = ("name", "code")


@admin.register(PaymentFile)
class PaymentFileAdmin(ReadOnlyMixin, TenantAdmin):
    """Files are imported through the payments services, here only shown with their outcome."""

    organization_path = "bank__organization"
    list_display = (
        "uploaded_at",
        "name",
        "bank",
        "status",
        "lines_total",
        "lines_imported",
        "lines_duplicate",
        "lines_unmatched",
        "amount_total",
        "uploaded_by",
    )
    list_select_related = ("bank", "uploaded_by")
    list_filter = ("status", ("bank", ScopedRelatedFilter))
    search_fields = ("name", "sha256")


class UnmatchedFilter(admin.SimpleListFilter):
    title = _("сопоставление")
    parameter_name = "matching"

    def lookups(self, request, model_admin):
        return [("unmatched", _("не сопоставлены")), ("matched", _("зачтены"))]

    def queryset(self, request, queryset):
        if self.value() == "unmatched":
            return queryset.filter(status=Payment.Status.UNMATCHED)
        if self.value() == "matched":
            return queryset.filter(status=Payment.Status.MATCHED)
        return queryset


@admin.register(Payment)
class PaymentAdmin(BigTableMixin, ReadOnlyMixin, TenantAdmin):
    """Payments come from files and the cabinet; matching goes through the payments services."""

    list_display = (
        "paid_at",
        "account_number",
        "account",
        "payer_name",
        "amount",
        "commission",
        "status",
        "channel",
        "bank",
        "period",
    )
    list_select_related = ("account", "bank", "period")
    # Newest first by the primary key: no sort over millions of payments.
    ordering = ("-pk",)
    list_filter = (
        UnmatchedFilter,
        "status",
        "channel",
        ("bank", ScopedRelatedFilter),
        ("period", ScopedRelatedFilter),
    )
    search_fields = ("=account_number", "=account__number", "payer_name", "natural_key")
    search_help_text = _("Номер ЛС, плательщик или ключ операции.")
