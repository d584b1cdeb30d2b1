"""Back office of logins: residents' and staff users, and their links to personal accounts."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from kvartplata.backoffice.admin.mixins import (
    BigTableMixin,
    TenantAdmin,
    TenantInlineMixin,
    user_organization_id,
)
from kvartplata.users.models import AccountLink, User

# Fields that grant power or identity: only a superuser changes them.
PRIVILEGED_FIELDS = (
    "username",
    "is_active",
    "is_staff",
    "is_superuser",
    "groups",
    "user_permissions",
    "organization",
    "last_login",
    "date_joined",
    "consent_version",
    "consent_at",
)


class AccountLinkInline(TenantInlineMixin, admin.TabularInline):
    model = AccountLink
    organization_path = "account__organization"
    fields = ("account", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("account",)
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account")


@admin.register(User)
class UserAdmin(BigTableMixin, TenantAdmin, DjangoUserAdmin):
    """Staff see their colleagues and the residents linked to their organization's accounts."""

    list_display = (
        "username",
        "email",
        "last_name",
        "first_name",
        "organization",
        "is_staff",
        "is_active",
        "last_login",
    )
    list_select_related = ("organization",)
    list_filter = ("is_staff", "is_active", "receipts_by_email", "groups")
    search_fields = ("username", "email", "last_name", "phone")
    inlines = (AccountLinkInline,)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            _("Личные данные"),
            {"fields": ("last_name", "first_name", "middle_name", "email", "phone")},
        ),
        (
            _("Квитанции и согласие"),
            {"fields": ("receipts_by_email", "consent_version", "consent_at")},
        ),
        (
            _("Права"),
            {
                "fields": (
                    "organization",
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        (_("Даты"), {"fields": ("last_login", "date_joined")}),
    )

    def scope_queryset(self, request, qs):
        user = request.user
        if user.is_superuser:
            return qs
        org_id = user_organization_id(user)
        if org_id is None:
            return qs.none()
        linked = AccountLink.objects.filter(user=OuterRef("pk"), account__organization_id=org_id)
        # Never show superusers to staff: nothing of theirs is an operator's business.
        return qs.filter(Q(organization_id=org_id) | Exists(linked)).exclude(is_superuser=True)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser or obj is None:
            return fieldsets
        # Not even the hash of a password is shown to an operator.
        return [
            (name, {**opts, "fields": tuple(f for f in opts["fields"] if f != "password")})
            for name, opts in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return PRIVILEGED_FIELDS

    def has_change_permission(self, request, obj=None):
        # Operators look after residents' data; colleagues' logins are the superuser's job.
        if obj is not None and obj.is_staff and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_add_permission(self, request):
        return request.user.is_superuser and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        # Residents restore passwords by e-mail; an operator setting one could sign in as them.
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)


@admin.register(AccountLink)
class AccountLinkAdmin(BigTableMixin, TenantAdmin):
    organization_path = "account__organization"
    list_display = ("account", "user", "created_at")
    list_select_related = ("account", "user")
    search_fields = ("=account__number", "user__username", "user__email")
    search_help_text = _("Номер ЛС, логин или e-mail пользователя.")
    autocomplete_fields = ("user", "account")
    readonly_fields = ("created_at",)

    def has_change_permission(self, request, obj=None):
        # A link is made or removed, never re-pointed.
        return False if obj is not None else super().has_change_permission(request, obj)
