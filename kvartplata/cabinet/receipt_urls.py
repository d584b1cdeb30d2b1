"""URLs of an account's receipts in the cabinet, under /accounts/<account_id>/receipts/."""

from django.urls import path

from kvartplata.cabinet import receipt_views as views

app_name = "receipts"

urlpatterns = [
    path("", views.receipt_list, name="receipt_list"),
    path("<int:receipt_id>/", views.receipt_detail, name="receipt_detail"),
    path("<int:receipt_id>/pdf/", views.receipt_download, name="receipt_pdf"),
    path("<int:receipt_id>/print/", views.receipt_print, name="receipt_print"),
]
