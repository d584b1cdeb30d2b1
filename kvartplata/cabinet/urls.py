"""URLs of the resident's cabinet."""

from django.urls import include, path

from kvartplata.cabinet import views

app_name = "cabinet"

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/link/", views.link, name="link"),
    path("accounts/switch/", views.switch, name="switch"),
    path("accounts/<int:account_id>/", views.account, name="account"),
    path("accounts/<int:account_id>/services/", views.services, name="services"),
    path("accounts/<int:account_id>/charges/", views.charges, name="charges"),
    path("accounts/<int:account_id>/payments/", views.payments, name="payments"),
    path("accounts/<int:account_id>/charts/", views.charts_page, name="charts"),
    path(
        "accounts/<int:account_id>/charts/charges.svg",
        views.chart_charges,
        name="chart_charges",
    ),
    path(
        "accounts/<int:account_id>/charts/consumption-<slug:unit>.svg",
        views.chart_consumption,
        name="chart_consumption",
    ),
    path("accounts/<int:account_id>/meters/", include("kvartplata.cabinet.meter_urls")),
    path("accounts/<int:account_id>/receipts/", include("kvartplata.cabinet.receipt_urls")),
]
