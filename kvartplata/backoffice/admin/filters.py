"""List filters of the back office that more than one app's admin uses."""

from datetime import date

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kvartplata.backoffice.admin.mixins import related_scope
from kvartplata.registry.models import Period


class NullDateStateFilter(admin.SimpleListFilter):
    """Filter on whether a "closed/archived on" date is empty: two named states."""

    field_name = ""
    empty_label = ""
    filled_label = ""

    def lookups(self, request, model_admin):
        return [("empty", self.empty_label), ("filled", self.filled_label)]

    def queryset(self, request, queryset):
        if self.value() == "empty":
            return queryset.filter(**{f"{self.field_name}__isnull": True})
        if self.value() == "filled":
            return queryset.filter(**{f"{self.field_name}__isnull": False})
        return queryset


class AccountStateFilter(NullDateStateFilter):
    title = _("состояние ЛС")
    parameter_name = "state"
    field_name = "closed_on"
    empty_label = _("открытые")
    filled_label = _("закрытые")


class ArchivedFilter(NullDateStateFilter):
    title = _("учёт")
    parameter_name = "archived"
    field_name = "archived_on"
    empty_label = _("на учёте")
    filled_label = _("сняты с учёта")


class MonthFilter(admin.SimpleListFilter):
    """A month column filtered by the months of the operator's periods, not a DISTINCT scan."""

    title = _("месяц")
    parameter_name = "month"
    field_name = "month"

    def lookups(self, request, model_admin):
        periods = related_scope(model_admin.admin_site, request, Period, Period.objects.all())
        months = sorted(set(periods.values_list("month", flat=True)), reverse=True)
        return [(m.isoformat(), f"{m:%m.%Y}") for m in months]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        try:
            month = date.fromisoformat(value)
        except ValueError:
            return queryset.none()
        return queryset.filter(**{self.field_name: month})
