"""In a browser: an operator walks a whole month on the demo world — readings, run, review, a
recalculation at the account desk, the close with its confirmation and reason, receipts issued —
while the resident's pages show the old month until the close. Saves the screenshots of the
month page, the account desk and the ведомость (docs/screenshots/)."""

import pytest
from django.conf import settings

from kvartplata.billing.models import Recalculation
from kvartplata.demo.world import build
from kvartplata.lib.periods import add_months, period_label
from kvartplata.receipts.models import Receipt
from kvartplata.registry.models import Period

SECTIONS = ("", "charges/", "payments/")


@pytest.fixture
def live_world(transactional_db):
    return build(accounts=20, months=3)


@pytest.fixture
def desktop(_test_http, _chromium, live_server):
    """Two browsers side by side: the operator's (desktop size) and the resident's (phone)."""
    office = _chromium.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    resident = _chromium.new_context(viewport={"width": 375, "height": 812}, locale="ru-RU")
    for context in (office, resident):
        context.set_default_timeout(15_000)
    yield office.new_page(), resident.new_page(), live_server.url
    office.close()
    resident.close()


def _resident_texts(page, account_url) -> dict[str, str]:
    texts = {}
    for section in SECTIONS:
        assert page.goto(account_url + section).status == 200
        texts[section] = page.inner_text("main")
    return texts


@pytest.mark.browser
def test_an_operator_walks_a_whole_month(desktop, live_world, screenshots):
    office, resident, base = desktop
    organization = live_world.organization
    period = Period.objects.get(organization=organization, state="open")
    name = period_label(period.month)

    resident.goto(f"{base}/accounts/login/")
    resident.fill("input[name=login]", "demo")
    resident.fill("input[name=password]", settings.DEMO_RESIDENT_PASSWORD)
    resident.click("form.form button[type=submit]")
    account_url = f"{base}/accounts/{live_world.resident_account.id}/"
    resident.wait_for_url(account_url)
    before = _resident_texts(resident, account_url)

    office.goto(f"{base}/office/login/")
    office.fill("input[name=username]", "operator")
    office.fill("input[name=password]", settings.DEMO_STAFF_PASSWORD)
    office.click("input[type=submit]")
    office.wait_for_url(f"{base}/office/")

    # The month page: readings so far, then the run.
    office.click("nav.office-tools >> text=Расчётный месяц")
    assert "передали показания" in office.inner_text("[data-testid=readings]")
    office.click("text=Выполнить начисление")
    office.wait_for_selector("[data-testid=by-service]")
    assert "завершён" in office.inner_text("[data-testid=run]")
    office.screenshot(path=str(screenshots / "office-month.png"), full_page=True)

    # A recalculation at the account desk, with its confirmation.
    account = live_world.resident_account
    office.click("nav.office-tools >> text=Лицевые счета")
    office.fill("#desk-q", account.number)
    office.click("text=Найти")
    office.wait_for_url(f"{base}/office/desk/{account.id}/")
    office.select_option("#id_concerns_month", f"{add_months(period.month, -1):%Y-%m}")
    office.fill("#id_amount", "-150,00")
    office.fill("#id_reason", "Перерыв в подаче горячей воды")
    office.click("button:has-text('Провести перерасчёт')")  # without the confirmation: refused
    assert not Recalculation.objects.filter(account=account, source="staff").exists()
    office.check("#id_confirm")
    office.click("button:has-text('Провести перерасчёт')")
    office.wait_for_selector(".messagelist >> text=проведён")
    assert Recalculation.objects.filter(account=account, source="staff").count() == 1
    office.screenshot(path=str(screenshots / "office-desk.png"), full_page=True)

    # Run again after the review, as the page offers.
    office.click("nav.office-tools >> text=Расчётный месяц")
    office.click("text=Выполнить начисление заново")
    office.wait_for_selector("[data-testid=by-service]")
    assert _resident_texts(resident, account_url) == before  # nothing issued yet

    # The close: the figures to be issued, a confirmation and (the window is open) a reason.
    office.click("text=Закрыть период и выпустить квитанции")
    assert "Лицевых счетов" in office.inner_text("[data-testid=figures]")
    office.check("input[name=confirm]")
    office.click("button:has-text('Закрыть период')")
    if "только указав причину" in office.content():
        office.fill("#id_reason", "Все показания получены досрочно")
        office.check("input[name=confirm]")
        office.click("button:has-text('Закрыть период')")
    office.wait_for_selector(f"text=Период {name} закрыт")
    period.refresh_from_db()
    assert period.state == Period.State.CLOSED
    assert Receipt.objects.filter(period=period).count() == len(live_world.accounts)

    after = _resident_texts(resident, account_url)
    for section in SECTIONS:
        assert after[section] != before[section], section
    assert f"Начисления за {name}" in after["charges/"]
    assert "Перерыв в подаче горячей воды" in after["charges/"]

    # The ведомость of the closed month.
    office.goto(
        f"{base}/office/reports/turnover/?first={period.month:%Y-%m}&last={period.month:%Y-%m}"
    )
    assert office.inner_text("[data-testid=report]")
    office.screenshot(path=str(screenshots / "office-osv.png"), full_page=True)
