"""The whole way of a new resident in Chromium: register, activate, sign in, change and restore
the password, delete the account."""

import re

import pytest
from django.core import mail

from kvartplata.users.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINK_RE = re.compile(r"https?://\S+")
FIRST, SECOND, THIRD = "Pervyi-parol-2025", "Vtoroi-parol-2025", "Tretii-parol-2025"


def last_link(subject_part: str) -> str:
    message = [m for m in mail.outbox if subject_part in m.subject][-1]
    return LINK_RE.search(message.body).group(0)


def sign_in(page, password):
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("Логин").fill("newcomer")
    page.get_by_label("Пароль").fill(password)
    page.get_by_role("button", name="Войти").click()


def test_it_goes_the_whole_way(browser_page, screenshots):
    page = browser_page
    page.goto(page.base_url + "/accounts/login/")
    page.screenshot(path=str(screenshots / "login.png"), full_page=True)

    # Register.
    page.get_by_role("link", name="Зарегистрироваться").last.click()
    page.get_by_label("Логин").fill("newcomer")
    page.get_by_label("Электронная почта").fill("newcomer@example.ru")
    page.get_by_label("Пароль", exact=True).fill(FIRST)
    page.get_by_label("Пароль ещё раз").fill(FIRST)
    page.get_by_label("согласие").check()
    page.get_by_role("button", name="Зарегистрироваться").click()
    page.get_by_role("heading", name="Проверьте почту").wait_for()

    # Not activated yet: the sign-in page says so.
    sign_in(page, FIRST)
    page.get_by_text("не активирована").wait_for()

    # Activate with the link from the message.
    page.goto(last_link("Активация"))
    page.get_by_role("button", name="Подтвердить").click()

    # Sign in.
    sign_in(page, FIRST)
    page.get_by_role("link", name="Мой профиль").click()
    page.get_by_role("heading", name="Мой профиль").wait_for()

    # Change the password.
    page.get_by_role("link", name="Сменить пароль").click()
    page.get_by_label("Текущий пароль").fill(FIRST)
    page.get_by_label("Новый пароль", exact=True).fill(SECOND)
    page.get_by_label("Новый пароль (ещё раз)").fill(SECOND)
    page.get_by_role("button", name="Сменить пароль").click()
    page.get_by_role("heading", name="Мой профиль").wait_for()

    # Sign out.
    page.get_by_role("button", name="Выйти").click()
    page.get_by_role("heading", name="Вход в личный кабинет").wait_for()

    # Restore the password by e-mail.
    page.get_by_role("link", name="Забыли пароль?").click()
    page.get_by_label("Электронная почта").fill("newcomer@example.ru")
    page.get_by_role("button", name="Отправить ссылку").click()
    page.get_by_role("heading", name="Проверьте почту").wait_for()
    page.goto(last_link("Восстановление пароля"))
    page.get_by_label("Новый пароль", exact=True).fill(THIRD)
    page.get_by_label("Новый пароль (ещё раз)").fill(THIRD)
    page.get_by_role("button", name="Сохранить пароль").click()
    page.get_by_role("heading", name="Пароль изменён").wait_for()

    # Sign in with it and delete the account.
    sign_in(page, THIRD)
    page.goto(page.base_url + "/accounts/profile/")
    page.get_by_role("link", name="Удалить учётную запись").click()
    page.get_by_label("Пароль").fill(THIRD)
    page.get_by_role("button", name="Удалить навсегда").click()
    page.get_by_text("учётная запись и персональные данные удалены").wait_for()
    assert not User.objects.filter(username="newcomer").exists()
