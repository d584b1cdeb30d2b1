"""URLs of the receipts back office (staff only), under /office-tools/receipts/."""

from django.urls import path

from kvartplata.receipts import staff_views

app_name = "receipts_office"

urlpatterns = [
    path("", staff_views.office, name="office"),
    path("<int:period_id>/", staff_views.period_detail, name="period"),
    path("<int:period_id>/print/", staff_views.print_start, name="print_start"),
    path("<int:period_id>/print.zip", staff_views.print_download, name="print_download"),
    path("<int:period_id>/retry-failed/", staff_views.retry_failed, name="retry_failed"),
    path(
        "deliveries/<int:delivery_id>/retry/",
        staff_views.delivery_retry_view,
        name="delivery_retry",
    ),
]
