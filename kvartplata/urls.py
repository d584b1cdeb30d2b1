"""URL map: the resident's cabinet at the root, the staff back office under /office/."""

from allauth.account import views as account_views
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView, TemplateView

from kvartplata.backoffice.office import READINGS, TOOLS, meters_site_patterns, moved

urlpatterns = [
    # One office: the operator's tools under /office/tools/ (not /office/<app>/, the admin's).
    path("office/tools/payments/", include("kvartplata.payments.urls")),
    path("office/tools/receipts/", include("kvartplata.receipts.staff_urls")),
    path("office/tools/registry/", include("kvartplata.backoffice.registry_import")),
    path("", include((meters_site_patterns(), "meters_site"))),
    path("office/reports/", include("kvartplata.backoffice.urls")),
    path("office/month/", include("kvartplata.backoffice.month_urls")),
    path("office/desk/", include("kvartplata.backoffice.desk_urls")),
    path("office/", admin.site.urls),
    # The tools' old addresses.
    path("office-tools/<path:rest>", moved, {"to": TOOLS}),
    path("meters/office/", moved, {"to": READINGS}),
    path("meters/office/<path:rest>", moved, {"to": READINGS}),
    # The old names "login"/"logout" stay resolvable; allauth's own are account_login/_logout.
    path("accounts/login/", account_views.login, name="login"),
    path("accounts/logout/", account_views.logout, name="logout"),
    path("accounts/", include("kvartplata.users.urls")),
    path("accounts/", include("allauth.urls")),
    # Browsers ask for /favicon.ico whatever the page links; send them to the SVG icon.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.svg")), name="favicon"),
    path("privacy/", TemplateView.as_view(template_name="privacy.html"), name="privacy"),
    path("", include("kvartplata.cabinet.urls")),
]
