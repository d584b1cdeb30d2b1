"""Back office of the registry: organizations, providers, buildings, premises, personal accounts."""

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from kvartplata.backoffice.admin.filters import AccountStateFilter
from kvartplata.backoffice.admin.mixins import BigTableMixin, ScopedRelatedFilter, TenantAdmin
from kvartplata.meters.models import Meter
from kvartplata.registry.models import Building, Organization, PersonalAccount, Premises, Provider

BANK_FIELDSET = (
    _("Банковские реквизиты"),
    {
        "fields": ("inn", "kpp", "bank_name", "bic", "correspondent_account", "settlement_account"),
        "description": _(
            "Проверяются при сохранении: контрольные цифры ИНН, формат КПП, контрольные ключи "
            "расчётного и корреспондентского счетов по БИК (алгоритм Банка России)."
        ),
    },
)


@admin.register(Organization)
class OrganizationAdmin(TenantAdmin):
    organization_path = "pk"
    list_display = ("short_name", "name", "inn", "address", "phones")
    search_fields = ("name", "short_name", "inn")
    fieldsets = (
        (None, {"fields": ("name", "short_name", "ogrn", "address")}),
        (_("Контакты"), {"fields": ("phones", "email", "website", "hours")}),
        BANK_FIELDSET,
        (
            _("Правила"),
            {
                "fields": (
                    "link_proof",
                    ("readings_day_from", "readings_day_to"),
                    "readings_outside_window",
                    "consumption_alert_factor",
                    ("receipt_day", "due_day"),
                    "cap_common_house_by_norm",
                )
            },
        ),
    )

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Provider)
class ProviderAdmin(TenantAdmin):
    list_display = ("name", "short_name", "inn", "bank_name", "settlement_account")
    search_fields = ("name", "short_name", "inn")
    fieldsets = (
        (None, {"fields": ("organization", "name", "short_name", "address", "phones")}),
        BANK_FIELDSET,
    )


@admin.register(Building)
class BuildingAdmin(TenantAdmin):
    list_display = (
        "address_display",
        "building_type",
        "floors",
        "total_area",
        "premises_count",
    )
    list_filter = ("city", "building_type")
    search_fields = ("street", "house", "city", "fias_code")
    ordering = ("city", "street", "house", "id")
    fieldsets = (
        (None, {"fields": ("organization", "city", "street", "house", "fias_code")}),
        (_("Дом"), {"fields": ("building_type", "floors", "built_year")}),
        (
            _("Площади"),
            {"fields": ("total_area", "residential_area", "non_residential_area", "common_area")},
        ),
        (_("Окно приёма показаний"), {"fields": (("readings_day_from", "readings_day_to"),)}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(premises_total=Count("premises"))

    @admin.display(description=_("адрес"), ordering="street")
    def address_display(self, obj):
        return obj.address

    @admin.display(description=_("помещений"), ordering="premises_total")
    def premises_count(self, obj):
        return obj.premises_total


@admin.register(Premises)
class PremisesAdmin(BigTableMixin, TenantAdmin):
    organization_path = "building__organization"
    list_display = ("number", "building", "kind", "total_area", "rooms", "floor")
    list_select_related = ("building",)
    list_filter = ("kind", ("building", ScopedRelatedFilter))
    search_fields = ("building__street", "=number")
    autocomplete_fields = ("building",)

    def get_queryset(self, request):
        # str() of a premises shows the building's address: autocomplete lists it per row.
        return super().get_queryset(request).select_related("building")


class PersonalAccountForm(forms.ModelForm):
    class Meta:
        model = PersonalAccount
        fields = (
            "organization",
            "number",
            "premises",
            "share",
            "holder_last_name",
            "holder_first_name",
            "holder_middle_name",
            "holder_phone",
            "residents",
            "opened_on",
            "closed_on",
        )

    def clean(self):
        cleaned = super().clean()
        premises = cleaned.get("premises")
        organization = cleaned.get("organization")
        if premises and organization and premises.building.organization_id != organization.pk:
            self.add_error("premises", _("Помещение находится в доме другой организации."))
        opened, closed = cleaned.get("opened_on"), cleaned.get("closed_on")
        if opened and closed and closed < opened:
            self.add_error("closed_on", _("Дата закрытия раньше даты открытия."))
        return cleaned


class MeterInline(admin.TabularInline):
    """The account's meters at a glance; a meter is edited on its own page."""

    model = Meter
    fk_name = "account"
    fields = ("serial_number", "resource", "zones", "next_verification_on", "archived_on")
    readonly_fields = fields
    show_change_link = True
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PersonalAccount)
class PersonalAccountAdmin(BigTableMixin, TenantAdmin):
    form = PersonalAccountForm
    list_display = (
        "number",
        "holder_name_display",
        "address_display",
        "residents",
        "area_display",
        "is_open_display",
    )
    list_select_related = ("premises__building",)
    list_filter = (AccountStateFilter, ("premises__building", ScopedRelatedFilter))
    # Every word must match one of these: "12345678", "Иванов", "Ленина 12" all work.
    search_fields = (
        "=number",
        "^holder_last_name",
        "premises__building__street",
        "=premises__number",
    )
    search_help_text = _("Номер ЛС, фамилия абонента или улица и номер квартиры.")
    autocomplete_fields = ("premises",)
    readonly_fields = ("link_code",)
    inlines = (MeterInline,)
    fieldsets = (
        (None, {"fields": ("organization", "number", "premises", "share")}),
        (
            _("Абонент"),
            {
                "fields": (
                    ("holder_last_name", "holder_first_name", "holder_middle_name"),
                    "holder_phone",
                    "residents",
                )
            },
        ),
        (_("Счёт"), {"fields": ("opened_on", "closed_on", "link_code")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("premises__building")

    @admin.display(description=_("абонент"), ordering="holder_last_name")
    def holder_name_display(self, obj):
        return obj.holder_name

    @admin.display(description=_("адрес"))
    def address_display(self, obj):
        return str(obj.premises)

    @admin.display(description=_("площадь, м²"))
    def area_display(self, obj):
        return obj.area

    @admin.display(description=_("открыт"), boolean=True, ordering="closed_on")
    def is_open_display(self, obj):
        return obj.is_open
