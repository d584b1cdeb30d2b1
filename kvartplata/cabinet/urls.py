"""URLs of the resident's cabinet."""

from django.urls import include, path

from kvartplata.cabinet import views

app_name = "cabinet"

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/<int:account_id>/meters/", include("kvartplata.meters.urls")),
]
