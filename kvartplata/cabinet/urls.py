"""URLs of the resident's cabinet."""

from django.urls import path

from kvartplata.cabinet import views

app_name = "cabinet"

urlpatterns = [
    path("", views.home, name="home"),
]
