"""App configuration of users."""

from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "kvartplata.users"
    label = "users"
    verbose_name = "Пользователи"
