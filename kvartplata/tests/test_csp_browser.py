"""In Chromium, the main pages and the back office run under the strict CSP without violations."""

import datetime

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from kvartplata.backoffice.services import staff_group_setup
from kvartplata.demo.world import build
from kvartplata.registry.models import PersonalAccount

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = datetime.date(2026, 11, 25)


def watch_console(page) -> list[str]:
    """Console messages and page errors; Chromium reports CSP blocks as "Refused to …"."""
    seen: list[str] = []
    page.on("console", lambda message: seen.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: seen.append(f"pageerror: {error}"))
    return seen


def visit(page, path: str) -> None:
    response = page.goto(page.base_url + path)
    assert response is not None and response.status < 400, (path, response and response.status)
    assert "unsafe-inline" not in response.headers.get("content-security-policy", "")
    page.wait_for_load_state("networkidle")


def violations(seen: list[str]) -> list[str]:
    return [text for text in seen if "Refused to" in text or "Content Security Policy" in text]


def test_it_runs_the_cabinet_and_the_back_office_without_csp_violations(browser_page):
    world = build(accounts=20, months=3, today=TODAY)
    staff_group_setup(usernames=["operator"])
    account = world.resident_account.id
    page = browser_page
    seen = watch_console(page)

    for path in ("/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"):
        visit(page, path)
    visit(page, "/accounts/login/")
    page.locator("input[name=login]").fill("demo")
    page.locator("input[name=password]").fill(settings.DEMO_RESIDENT_PASSWORD)
    page.locator("form [type=submit]").first.click()
    page.wait_for_url(f"**/accounts/{account}/")
    for suffix in ("", "services/", "charges/", "payments/", "charts/", "meters/", "receipts/"):
        visit(page, f"/accounts/{account}/{suffix}")
    visit(page, "/accounts/profile/")

    page.context.clear_cookies()
    visit(page, "/office/login/")
    page.locator("input[name=username]").fill("operator")
    page.locator("input[name=password]").fill(settings.DEMO_STAFF_PASSWORD)
    page.locator("#login-form [type=submit]").click()
    page.wait_for_url("**/office/")
    account_pk = PersonalAccount.objects.order_by("pk").values_list("pk", flat=True).first()
    for path in (
        "/office/",
        "/office/registry/personalaccount/",
        f"/office/registry/personalaccount/{account_pk}/change/",
        "/office/billing/charge/",
        "/office/billing/norm/add/",
        "/office/meters/meter/add/",
        "/office/users/user/",
        "/office/admin/logentry/",
        "/office/two-factor/",
        "/office/tools/payments/",
        "/office/tools/receipts/",
        "/office/tools/readings/",
    ):
        visit(page, path)
    # The set-up page with its QR code (inline SVG, no inline styles).
    visit(page, "/office/two-factor/")
    page.get_by_role("button", name="Подключить приложение-аутентификатор").click()
    page.locator("svg.segno").wait_for()

    assert get_user_model().objects.filter(username="operator", is_staff=True).exists()
    assert violations(seen) == [], "\n".join(seen)
