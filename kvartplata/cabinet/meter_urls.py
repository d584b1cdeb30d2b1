"""URLs of an account's meters in the cabinet, under /accounts/<account_id>/meters/."""

from django.urls import path

from kvartplata.cabinet import meter_views as views

app_name = "meters"

urlpatterns = [
    path("", views.meter_list, name="meter_list"),
    path("<int:meter_id>/", views.meter_history, name="meter_history"),
]
