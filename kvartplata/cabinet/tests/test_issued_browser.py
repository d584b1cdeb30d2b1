"""In a browser: the run of the open month leaves the resident's pages as they were; the close
shows the new month on them at once (through the page cache, which stays on)."""

import pytest
from django.conf import settings

from kvartplata.backoffice.closing import period_close_with_receipts
from kvartplata.billing.services import billing_run
from kvartplata.demo.world import build
from kvartplata.lib.periods import period_label
from kvartplata.registry.models import Period

SECTIONS = ("", "charges/", "payments/", "charts/")


@pytest.fixture
def live_world(transactional_db):
    return build(accounts=20, months=3)


def _texts(page, account_url) -> dict[str, str]:
    texts = {}
    for section in SECTIONS:
        response = page.goto(account_url + section)
        assert response.status == 200, section
        texts[section] = page.inner_text("main")
    return texts


@pytest.mark.browser
def test_it_shows_the_open_month_only_once_it_is_closed(browser_page, live_world):
    page = browser_page
    base = page.base_url
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", "demo")
    page.fill("input[name=password]", settings.DEMO_RESIDENT_PASSWORD)
    page.click("form.form button[type=submit]")
    account_url = f"{base}/accounts/{live_world.resident_account.id}/"
    page.wait_for_url(account_url)
    organization = live_world.organization
    open_month = Period.objects.get(organization=organization, state="open").month

    before = _texts(page, account_url)
    assert f"Начисления за {period_label(open_month)}" not in before["charges/"]

    billing_run(organization=organization)  # as the operator's run does, through the service
    assert Period.objects.get(organization=organization, month=open_month).state == "billed"
    after_run = _texts(page, account_url)
    assert after_run == before

    period_close_with_receipts(organization=organization)
    after_close = _texts(page, account_url)
    for section in SECTIONS:
        assert after_close[section] != before[section], section
    assert f"Начисления за {period_label(open_month)}" in after_close["charges/"]
