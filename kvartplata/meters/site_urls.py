"""URLs of meters outside an account: staff tools and the reminders' unsubscribe link."""

from django.urls import path

from kvartplata.meters import views

app_name = "meters_site"

urlpatterns = [
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("office/", views.office, name="office"),
    path("office/import/", views.office_import, name="office_import"),
    path("office/import/<int:file_id>/", views.office_import_file, name="office_import_file"),
    path("office/export/", views.office_export, name="office_export"),
    path("office/<int:meter_id>/reading/", views.office_reading, name="office_reading"),
    path("office/<int:meter_id>/replace/", views.office_replace, name="office_replace"),
]
