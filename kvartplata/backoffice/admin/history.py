"""The history of changes made in the back office: who changed what and when."""

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.utils.translation import gettext_lazy as _

from kvartplata.backoffice.admin.mixins import BigTableMixin, ReadOnlyMixin, TenantAdmin

HISTORY_TITLE = "История изменений в бэк-офисе"


@admin.register(LogEntry)
class LogEntryAdmin(BigTableMixin, ReadOnlyMixin, TenantAdmin):
    """Who changed what and when in the back office (staff of the same organization)."""

    organization_path = "user__organization"
    list_display = ("action_time", "user", "content_type", "object_repr", "action_flag", "message")
    list_select_related = ("user", "content_type")
    ordering = ("-pk",)
    list_filter = ("action_flag", "content_type")
    search_fields = ("object_repr", "user__username", "object_id")
    date_hierarchy = "action_time"

    @admin.display(description=_("изменения"))
    def message(self, obj):
        return obj.get_change_message()

    # Not «журнал»: that word is the ledger's («Журнал проводок»).
    def changelist_view(self, request, extra_context=None):
        extra = {"title": HISTORY_TITLE, "subtitle": None, **(extra_context or {})}
        return super().changelist_view(request, extra)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra = {"title": "Запись истории изменений", **(extra_context or {})}
        return super().changeform_view(request, object_id, form_url, extra)
