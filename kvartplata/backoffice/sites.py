"""The back office admin site: its own sign-in with an optional (or required) TOTP code."""

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import path

from kvartplata.backoffice import two_factor
from kvartplata.backoffice.forms import OfficeAuthenticationForm


class OfficeAdminSite(admin.AdminSite):
    """Django's admin with a second factor: staff who set up an authenticator must use it."""

    login_form = OfficeAuthenticationForm
    login_template = "backoffice/login.html"

    def has_permission(self, request):
        return super().has_permission(request) and two_factor.is_satisfied(request)

    def each_context(self, request):
        context = super().each_context(request)
        context["two_factor_prompt"] = two_factor.should_prompt(request)
        return context

    def login(self, request, extra_context=None):
        # Staff who must set up an authenticator first are sent there, not back to sign-in.
        if request.method == "GET" and two_factor.must_enrol(request):
            return redirect("admin:two_factor")
        response = super().login(request, extra_context)
        if request.method == "POST" and response.status_code == 302:
            two_factor.forget_device_state(request)
            if two_factor.must_enrol(request):
                return redirect("admin:two_factor")
        return response

    def get_app_list(self, request, app_label=None):
        """The admin's own history is «История изменений», so that only the ledger is a
        «журнал» («Журнал проводок»)."""
        apps = super().get_app_list(request, app_label)
        for app in apps:
            for model in app["models"]:
                if model["object_name"] == "LogEntry":
                    model["name"] = "История изменений"
            if app["app_label"] == "admin":
                app["name"] = "История изменений"
        return apps

    def get_urls(self):
        from kvartplata.backoffice import views

        return [
            path("two-factor/", views.two_factor_view, name="two_factor"),
            *super().get_urls(),
        ]
