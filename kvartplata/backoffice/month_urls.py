"""The month page, under /office/month/."""

from django.urls import path

from kvartplata.backoffice import month_views

app_name = "office_month"

urlpatterns = [
    path("", month_views.month_page, name="current"),
    path("<int:period_id>/", month_views.month_page, name="period"),
    path("<int:period_id>/run/", month_views.month_run, name="run"),
    path("<int:period_id>/close/", month_views.month_close_page, name="close"),
]
