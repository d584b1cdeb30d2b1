"""URLs of the resident's profile, mounted under /accounts/ beside allauth's."""

from django.urls import path

from kvartplata.users import views

app_name = "users"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/links/<int:link_id>/unlink/", views.link_remove, name="link_remove"),
    path("profile/delete/", views.account_delete, name="account_delete"),
    path("activation/resend/", views.activation_resend, name="activation_resend"),
]
