"""Back office of billing: services, tariffs, norms, periods, runs, charges, ledger, penalties."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from kvartplata.backoffice.admin.mixins import (
    BigTableMixin,
    GlobalReferenceAdmin,
    ReadOnlyMixin,
    ScopedRelatedFilter,
    TenantAdmin,
    TenantInlineMixin,
)
from kvartplata.billing.models import (
    AccountBalance,
    BillingRun,
    Charge,
    IncreasingCoefficient,
    KeyRate,
    LedgerEntry,
    Moratorium,
    Norm,
    Recalculation,
    Service,
    Tariff,
)
from kvartplata.billing.services import (
    BillingError,
    billing_run_start,
    recalculation_add,
)
from kvartplata.billing.tasks import run_billing, run_billing_after
from kvartplata.lib.queue import enqueue_on_commit
from kvartplata.registry.models import Period


class TariffInline(TenantInlineMixin, admin.TabularInline):
    model = Tariff
    organization_path = "service__organization"
    fields = ("zone", "valid_from", "valid_to", "price", "basis")
    extra = 0


@admin.register(Service)
class ServiceAdmin(TenantAdmin):
    list_display = (
        "name",
        "code",
        "provider",
        "method",
        "unit",
        "resource",
        "has_common_house",
        "sort_order",
        "is_active",
    )
    list_select_related = ("provider",)
    list_filter = ("is_active", "method", "resource", ("provider", ScopedRelatedFilter))
    search_fields = ("name", "code")
    inlines = (TariffInline,)
    fieldsets = (
        (None, {"fields": ("organization", "provider", "code", "name", "sort_order", "is_active")}),
        (
            _("Расчёт"),
            {
                "fields": (
                    "method",
                    "unit",
                    "resource",
                    "zones",
                    "volume_precision",
                    "has_common_house",
                    "meter_installable",
                )
            },
        ),
    )


@admin.register(Norm)
class NormAdmin(TenantAdmin):
    organization_path = "service__organization"
    list_display = ("service", "kind", "building_type", "valid_from", "value")
    list_select_related = ("service",)
    list_filter = (("service", ScopedRelatedFilter), "kind", "building_type")
    search_fields = ("service__name",)


class PeriodForm(forms.ModelForm):
    class Meta:
        model = Period
        fields = ("organization", "month", "due_date")

    def clean_month(self):
        month = self.cleaned_data["month"]
        if month and month.day != 1:
            raise forms.ValidationError(_("Период — это первое число месяца."))
        return month

    def clean(self):
        cleaned = super().clean()
        organization, month = cleaned.get("organization"), cleaned.get("month")
        if self.instance.pk is None and organization is not None:
            unfinished = Period.objects.filter(organization=organization).exclude(
                state=Period.State.CLOSED
            )
            if unfinished.exists():
                raise forms.ValidationError(
                    _("У организации уже есть незакрытый период: сначала закройте его.")
                )
            if month and Period.objects.filter(organization=organization, month=month).exists():
                self.add_error("month", _("Такой период уже есть."))
        due_date = cleaned.get("due_date")
        if month and due_date and due_date < month:
            self.add_error("due_date", _("Срок оплаты раньше начала периода."))
        return cleaned


@admin.register(Period)
class PeriodAdmin(TenantAdmin):
    """Periods: opened here; billing and closing are actions that go through billing services."""

    form = PeriodForm
    list_display = ("month_display", "state", "due_date", "opened_at", "billed_at", "closed_at")
    list_filter = ("state",)
    ordering = ("-month",)
    readonly_fields = ("state", "opened_at", "billed_at", "closed_at")
    actions = ["run_billing", "close_period"]

    @admin.action(description=_("Запустить начисление (в очереди)"), permissions=["change"])
    def run_billing(self, request, queryset):
        for period in queryset.select_related("organization"):
            try:
                run = billing_run_start(organization=period.organization, user=request.user)
            except BillingError as exc:
                run_billing_after(exc)
                self.message_user(request, str(exc), messages.ERROR)
            else:
                enqueue_on_commit(run_billing, run.id)
                self.message_user(
                    request,
                    _("Начисление за %(month)s поставлено в очередь.")
                    % {"month": f"{period.month:%m.%Y}"},
                    messages.SUCCESS,
                )

    @admin.action(description=_("Закрыть период и выпустить квитанции…"), permissions=["change"])
    def close_period(self, request, queryset):
        """Not from the list: the month page shows the figures and asks for confirmation."""
        from django.shortcuts import redirect

        periods = list(queryset.exclude(state=Period.State.CLOSED)[:2])
        if len(periods) != 1:
            self.message_user(request, _("Выберите один незакрытый период."), messages.ERROR)
            return None
        return redirect("office_month:close", period_id=periods[0].id)

    @admin.display(description=_("месяц"), ordering="month")
    def month_display(self, obj):
        return f"{obj.month:%m.%Y}"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("organization", "month", "due_date")
        return ("organization", "month", "due_date", *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # The month of an existing period is its identity: charges and ledger hang on it.
        return ("organization", "month", *self.readonly_fields)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_closed:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyMixin, TenantAdmin):
    list_display = (
        "created_at",
        "period",
        "status",
        "accounts_done",
        "accounts_total",
        "lines",
        "created_by",
        "finished_at",
    )
    list_select_related = ("period", "created_by")
    list_filter = ("status", ("period", ScopedRelatedFilter))


@admin.register(Charge)
class ChargeAdmin(BigTableMixin, ReadOnlyMixin, TenantAdmin):
    # Through the period: the (period, service) index leads the plan, periods are few.
    organization_path = "period__organization"
    list_display = (
        "account",
        "period",
        "service",
        "kind",
        "zone",
        "method",
        "volume",
        "tariff",
        "amount",
    )
    list_select_related = ("account", "period", "service")
    list_filter = (
        ("period", ScopedRelatedFilter),
        ("service", ScopedRelatedFilter),
        "kind",
        "method",
    )
    search_fields = ("=account__number",)
    search_help_text = _("Номер лицевого счёта.")
    list_per_page = 100


class RecalculationForm(forms.ModelForm):
    class Meta:
        model = Recalculation
        fields = ("account", "period", "concerns_month", "service", "volume", "amount", "reason")

    def clean_concerns_month(self):
        month = self.cleaned_data["concerns_month"]
        if month and month.day != 1:
            raise forms.ValidationError(_("Укажите первое число месяца, за который перерасчёт."))
        return month

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount is not None and amount == 0:
            raise forms.ValidationError(_("Сумма перерасчёта не может быть нулевой."))
        limit = Decimal(settings.MAX_LINE_AMOUNT)
        if amount is not None and abs(amount) > limit:  # issue #16: ranges at every entrance
            raise forms.ValidationError(
                _("Сумма перерасчёта больше допустимой для одной строки (%(limit)s ₽).")
                % {"limit": limit}
            )
        return amount

    def clean(self):
        cleaned = super().clean()
        account, period = cleaned.get("account"), cleaned.get("period")
        service, month = cleaned.get("service"), cleaned.get("concerns_month")
        if account and period and account.organization_id != period.organization_id:
            self.add_error("period", _("Период другой организации."))
        if account and service and account.organization_id != service.organization_id:
            self.add_error("service", _("Услуга другой организации."))
        if period and month and month > period.month:
            self.add_error("concerns_month", _("Перерасчёт не может касаться будущего месяца."))
        return cleaned


@admin.register(Recalculation)
class RecalculationAdmin(BigTableMixin, TenantAdmin):
    """Staff corrections: entered in the open period, booked into the ledger by billing."""

    form = RecalculationForm

    organization_path = "period__organization"
    list_display = (
        "created_at",
        "account",
        "period",
        "concerns_month",
        "service",
        "amount",
        "reason",
        "source",
        "created_by",
    )
    list_select_related = ("account", "period", "service", "created_by")
    ordering = ("-pk",)
    list_filter = (("period", ScopedRelatedFilter), "source", ("service", ScopedRelatedFilter))
    search_fields = ("=account__number", "reason")
    autocomplete_fields = ("account",)
    fields = ("account", "period", "concerns_month", "service", "volume", "amount", "reason")
    readonly_fields = ("source", "created_by", "created_at")

    def get_fields(self, request, obj=None):
        return self.fields if obj is None else (*self.fields, *self.readonly_fields)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "period" and field is not None:
            # A correction is booked only into the period that is not closed yet.
            field.queryset = field.queryset.exclude(state=Period.State.CLOSED)
        return field

    # The ledger is append-only: a wrong recalculation is corrected by another one.
    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return obj is None and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        try:
            created = recalculation_add(
                account=obj.account,
                concerns_month=obj.concerns_month,
                amount=obj.amount,
                reason=obj.reason,
                service=obj.service,
                user=request.user,
            )
        except BillingError as exc:  # the form checked the same rules; a race is still possible
            raise PermissionDenied(str(exc)) from exc
        obj.pk = created.pk
        obj.period = created.period
        obj.source = created.source
        obj.created_by = created.created_by
        obj._state.adding = False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(BigTableMixin, ReadOnlyMixin, TenantAdmin):
    organization_path = "period__organization"
    list_display = ("entry_date", "account", "period", "concerns_month", "kind", "amount", "note")
    list_select_related = ("account", "period")
    list_filter = (("period", ScopedRelatedFilter), "kind")
    search_fields = ("=account__number",)
    search_help_text = _("Номер лицевого счёта.")
    list_per_page = 100


class DebtFilter(admin.SimpleListFilter):
    title = _("долг на конец")
    parameter_name = "debt"

    def lookups(self, request, model_admin):
        return [("yes", _("есть долг")), ("no", _("нет долга"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(closing__gt=0)
        if self.value() == "no":
            return queryset.filter(closing__lte=0)
        return queryset


@admin.register(AccountBalance)
class AccountBalanceAdmin(BigTableMixin, ReadOnlyMixin, TenantAdmin):
    organization_path = "period__organization"
    list_display = (
        "account",
        "period",
        "opening",
        "charges",
        "recalculations",
        "penalties",
        "payments",
        "closing",
    )
    list_select_related = ("account", "period")
    list_filter = (("period", ScopedRelatedFilter), DebtFilter)
    search_fields = ("=account__number",)
    search_help_text = _("Номер лицевого счёта.")
    list_per_page = 100


@admin.register(KeyRate)
class KeyRateAdmin(GlobalReferenceAdmin):
    list_display = ("valid_from", "rate", "basis")


@admin.register(IncreasingCoefficient)
class IncreasingCoefficientAdmin(GlobalReferenceAdmin):
    list_display = ("resource", "valid_from", "value", "basis")
    list_filter = ("resource",)


@admin.register(Moratorium)
class MoratoriumAdmin(GlobalReferenceAdmin):
    list_display = ("start", "end", "basis")
