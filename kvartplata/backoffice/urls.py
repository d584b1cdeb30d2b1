"""The office pages beyond the model admins, under /office/."""

from django.urls import path

from kvartplata.backoffice import report_views

app_name = "office_reports"

urlpatterns = [
    path("turnover/", report_views.turnover, name="turnover"),
    path("debtors/", report_views.debtors, name="debtors"),
    path("collections/", report_views.collections, name="collections"),
    path("readings/", report_views.readings, name="readings"),
]
