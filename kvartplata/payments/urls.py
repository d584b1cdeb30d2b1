"""URLs of the payments back office (staff only)."""

from django.urls import path

from kvartplata.payments import views

app_name = "payments"

urlpatterns = [
    path("", views.office, name="office"),
    path("upload/", views.upload, name="upload"),
    path("files/<int:file_id>/", views.file_detail, name="file"),
    path("unmatched/", views.unmatched, name="unmatched"),
    path("unmatched/<int:payment_id>/", views.unmatched_detail, name="unmatched_detail"),
    path("unmatched/<int:payment_id>/match/", views.match, name="match"),
    path("unmatched/<int:payment_id>/return/", views.return_payment, name="return"),
]
