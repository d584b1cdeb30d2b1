"""The account desk, under /office/desk/."""

from django.urls import path

from kvartplata.backoffice import desk_views

app_name = "office_desk"

urlpatterns = [
    path("", desk_views.desk_search, name="search"),
    path("<int:account_id>/", desk_views.desk_account, name="account"),
    path(
        "<int:account_id>/receipts/<int:receipt_id>/send/",
        desk_views.desk_resend,
        name="resend",
    ),
]
