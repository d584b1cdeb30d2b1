"""Back office of meters: flat and building meters with verification dates, and their readings."""

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kvartplata.backoffice.admin.filters import ArchivedFilter, MonthFilter
from kvartplata.backoffice.admin.mixins import BigTableMixin, ReadOnlyMixin, TenantAdmin
from kvartplata.meters.models import Meter, Reading
from kvartplata.meters.validation import fmt

METER_ORGANIZATION_PATHS = ("account__organization", "building__organization")


class VerificationFilter(admin.SimpleListFilter):
    title = _("поверка")
    parameter_name = "verification"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("просрочена")),
            ("soon", _("в ближайшие 30 дней")),
            ("ok", _("в срок")),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.filter(next_verification_on__lt=today)
        if self.value() == "soon":
            return queryset.filter(
                next_verification_on__gte=today,
                next_verification_on__lte=today + timedelta(days=30),
            )
        if self.value() == "ok":
            return queryset.filter(next_verification_on__gte=today)
        return queryset


class MeterForm(forms.ModelForm):
    class Meta:
        model = Meter
        fields = (
            "scope",
            "account",
            "building",
            "resource",
            "place",
            "serial_number",
            "model",
            "zones",
            "digits",
            "precision",
            "seal_number",
            "installed_on",
            "verified_on",
            "next_verification_on",
            "initial_value1",
            "initial_value2",
            "initial_value3",
            "archived_on",
            "archive_reason",
            "replaces",
        )

    def clean(self):
        cleaned = super().clean()
        scope, account, building = (
            cleaned.get("scope"),
            cleaned.get("account"),
            cleaned.get("building"),
        )
        if scope == Meter.Scope.FLAT and (account is None or building is not None):
            raise forms.ValidationError(
                _("Индивидуальный прибор привязывается к лицевому счёту, а не к дому.")
            )
        if scope == Meter.Scope.BUILDING and (building is None or account is not None):
            raise forms.ValidationError(
                _("Общедомовой прибор привязывается к дому, а не к лицевому счёту.")
            )
        verified, next_on = cleaned.get("verified_on"), cleaned.get("next_verification_on")
        if verified and next_on and next_on < verified:
            self.add_error("next_verification_on", _("Следующая поверка раньше последней."))
        return cleaned


@admin.register(Meter)
class MeterAdmin(BigTableMixin, TenantAdmin):
    form = MeterForm
    organization_path = METER_ORGANIZATION_PATHS
    list_display = (
        "serial_number",
        "resource",
        "scope",
        "account",
        "building",
        "next_verification_on",
        "verification_overdue",
        "archived_on",
    )
    list_select_related = ("account", "building")
    list_filter = (VerificationFilter, "resource", "scope", ArchivedFilter)
    search_fields = ("serial_number", "=account__number", "building__street")
    search_help_text = _("Заводской номер, номер ЛС или улица дома.")
    autocomplete_fields = ("account", "building", "replaces")
    fieldsets = (
        (None, {"fields": ("scope", "account", "building", "resource", "place")}),
        (
            _("Прибор"),
            {"fields": ("serial_number", "model", "zones", "digits", "precision", "seal_number")},
        ),
        (
            _("Поверка"),
            {"fields": ("installed_on", "verified_on", "next_verification_on")},
        ),
        (
            _("Начальные показания"),
            {"fields": ("initial_value1", "initial_value2", "initial_value3")},
        ),
        (_("Снятие и замена"), {"fields": ("archived_on", "archive_reason", "replaces")}),
    )

    @admin.display(description=_("поверка просрочена"), boolean=True)
    def verification_overdue(self, obj):
        return obj.verification_expired(timezone.localdate())


@admin.register(Reading)
class ReadingAdmin(BigTableMixin, ReadOnlyMixin, TenantAdmin):
    """Readings are entered through the cabinet and the readings services, here only shown."""

    organization_path = ("meter__account__organization", "meter__building__organization")
    list_display = (
        "meter",
        "account_number",
        "month_display",
        "value1_display",
        "value2_display",
        "value3_display",
        "kind",
        "source",
        "is_accepted",
        "confirmed_high",
        "submitted_at",
    )
    list_select_related = ("meter__account",)
    # Newest first by the primary key: no sort over millions of readings.
    ordering = ("-pk",)
    list_filter = (MonthFilter, "source", "is_accepted", "kind", "meter__resource")
    search_fields = ("meter__serial_number", "=meter__account__number")
    search_help_text = _("Заводской номер прибора или номер ЛС.")

    @admin.display(description=_("ЛС"), ordering="meter__account__number")
    def account_number(self, obj):
        return obj.meter.account.number if obj.meter.account_id else "—"

    @admin.display(description=_("месяц"), ordering="month")
    def month_display(self, obj):
        return f"{obj.month:%m.%Y}"

    # «178,1», not the column's «178,1000»: the Russian way, without trailing zeros.
    @admin.display(description=_("T1"), ordering="value1")
    def value1_display(self, obj):
        return fmt(obj.value1) if obj.value1 is not None else "—"

    @admin.display(description=_("T2"), ordering="value2")
    def value2_display(self, obj):
        return fmt(obj.value2) if obj.value2 is not None else "—"

    @admin.display(description=_("T3"), ordering="value3")
    def value3_display(self, obj):
        return fmt(obj.value3) if obj.value3 is not None else "—"
