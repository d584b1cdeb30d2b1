"""Shared parts of the back office admins: tenancy scoping, audit log, read-only, big tables."""

from django.contrib import admin
from django.contrib.admin.models import ADDITION, CHANGE, DELETION
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from kvartplata.registry.models import Organization
from kvartplata.users.audit import audit

ACTION_EVENTS = {ADDITION: "staff_add", CHANGE: "staff_change", DELETION: "staff_delete"}


def user_organization_id(user) -> int | None:
    return getattr(user, "organization_id", None)


def scope_to_organization(qs: QuerySet, *, user, paths: tuple[str, ...]) -> QuerySet:
    """Rows of qs that belong to the user's organization; a superuser sees everything.

    `paths` are lookups from the model to Organization ("pk" for Organization itself); a row
    belongs to the organization when any of them leads there (a meter hangs on an account
    or on a building).
    """
    if user.is_superuser:
        return qs
    org_id = user_organization_id(user)
    if org_id is None or not paths:
        return qs.none()
    condition = Q()
    for path in paths:
        condition |= Q(pk=org_id) if path == "pk" else Q(**{f"{path}_id": org_id})
    return qs.filter(condition)


def related_scope(admin_site, request, model, qs: QuerySet) -> QuerySet:
    """Scope qs of a related model by the rules of that model's own admin, if it has them."""
    related_admin = admin_site._registry.get(model)
    if related_admin is not None and hasattr(related_admin, "scope_queryset"):
        return related_admin.scope_queryset(request, qs)
    return qs


class ScopedRelatedFilter(admin.RelatedFieldListFilter):
    """A related-object filter that offers only the objects of the operator's organization."""

    def field_choices(self, field, request, model_admin):
        model = field.remote_field.model
        qs = related_scope(model_admin.admin_site, request, model, model._default_manager.all())
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            qs = qs.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in qs]


class AuditLogMixin:
    """Mirror every admin change (LogEntry: who, when, what) into the "kvartplata.audit" logger."""

    def _audit(self, request, entries):
        if entries is None:
            return
        if not isinstance(entries, list | tuple):
            entries = [entries]
        for entry in entries:
            # The same one-line format as the authentication events: one audit trail.
            audit(
                ACTION_EVENTS.get(entry.action_flag, "staff_action"),
                request=request,
                user=request.user,
                model=self.model._meta.label_lower,
                object_id=entry.object_id,
                object=repr(entry.object_repr),
                changes=repr(entry.get_change_message()),
                log_entry=entry.pk,
            )

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        self._audit(request, entry)
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        self._audit(request, entry)
        return entry

    def log_deletions(self, request, queryset):
        entries = super().log_deletions(request, queryset)
        self._audit(request, entries)
        return entries


class OrganizationScopedMixin:
    """Tenancy: staff see and choose only their organization's rows; superusers see all.

    Set `organization_path` to the lookup(s) from the model to Organization. The same rules
    scope the change list, change pages (others' rows are 404), foreign-key choices,
    autocomplete results and related-object filters.
    """

    organization_path: str | tuple[str, ...] = "organization"

    def organization_paths(self) -> tuple[str, ...]:
        path = self.organization_path
        return (path,) if isinstance(path, str) else tuple(path)

    def scope_queryset(self, request, qs: QuerySet) -> QuerySet:
        return scope_to_organization(qs, user=request.user, paths=self.organization_paths())

    def get_queryset(self, request):
        return self.scope_queryset(request, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            model = db_field.remote_field.model
            qs = model._default_manager.all()
            scoped = related_scope(self.admin_site, request, model, qs)
            if scoped is not qs:
                kwargs["queryset"] = scoped
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if (
            field is not None
            and db_field.remote_field.model is Organization
            and not request.user.is_superuser
        ):
            # An operator works for one organization: show it, never let it be changed.
            field.disabled = True
            field.initial = user_organization_id(request.user)
        return field


class TenantInlineMixin(OrganizationScopedMixin):
    """Inlines: the same scoping as OrganizationScopedMixin for the rows and their choices."""


class RussianTitlesMixin:
    """Page titles that read right in Russian whatever the gender of the model's name.

    Django's Russian admin puts verbose_name into phrases that need another case («Выберите
    услуга для изменения», «Добавить услуга»); a noun phrase with a colon needs none.
    """

    def changelist_view(self, request, extra_context=None):
        title = capfirst(str(self.model._meta.verbose_name_plural))
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    def add_view(self, request, form_url="", extra_context=None):
        title = f"Новая запись: {self.model._meta.verbose_name}"
        return super().add_view(request, form_url, {"title": title, **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The permission is asked without the object: a title needs no extra query.
        verb = "Изменение" if self.has_change_permission(request) else "Просмотр"
        title = f"{verb}: {self.model._meta.verbose_name}"
        return super().change_view(
            request, object_id, form_url, {"title": title, **(extra_context or {})}
        )


class TenantAdmin(RussianTitlesMixin, AuditLogMixin, OrganizationScopedMixin, admin.ModelAdmin):
    """Base admin of a tenant-owned model: scoped, audited, 404 for others' rows."""

    list_per_page = 50
    # Sites typed without a scheme are https (Django 6's default, chosen now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_object(self, request, object_id, from_field=None):
        # Admin's default answers a missing row with a redirect and a message; a row of
        # another organization must look exactly like one that does not exist: 404.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("Объект не найден."))
        return obj

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        if request.user.is_superuser and self.organization_paths() == ("organization",):
            filters.insert(0, "organization")
        return filters


class CappedPaginator(Paginator):
    """Counts at most `cap` + 1 rows: a COUNT(*) over millions of charges would take seconds.

    A list longer than the cap shows cap + 1 as its size; the operator narrows it by filters.
    """

    cap = 100_000

    @cached_property
    def count(self):
        return self.object_list[: self.cap + 1].count()


class BigTableMixin:
    """Lists of hundreds of thousands of rows: capped counts, no facet counts, moderate pages."""

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    paginator = CappedPaginator


class ReadOnlyMixin:
    """Rows written by services only (billing, imports): the back office shows, never edits."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class GlobalReferenceAdmin(RussianTitlesMixin, AuditLogMixin, admin.ModelAdmin):
    """Reference data shared by all organizations (key rate, moratoria): only superusers edit."""

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
