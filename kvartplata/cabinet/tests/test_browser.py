"""The cabinet in a phone-sized browser: sign in, link a second account, visit every page.

Saves the screenshots the README shows (docs/screenshots/).
"""

import pytest
from django.conf import settings

from kvartplata.demo.world import build


@pytest.fixture
def live_world(transactional_db):
    return build(accounts=20, months=6)


def _no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{page.url} is {width}px wide at 375px"


@pytest.mark.browser
def test_it_walks_the_cabinet_at_phone_width(browser_page, live_world, screenshots):
    page = browser_page
    base = page.base_url

    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", "demo")
    page.fill("input[name=password]", settings.DEMO_RESIDENT_PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}/accounts/{live_world.resident_account.id}/")

    # Link a second account with the code printed on its receipt.
    page.goto(f"{base}/accounts/link/")
    page.fill("#id_number", live_world.spare_account.number)
    page.fill("#id_proof", live_world.spare_account.link_code)
    _no_sideways_scroll(page)
    page.screenshot(path=str(screenshots / "link.png"), full_page=True)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}/accounts/{live_world.spare_account.id}/")
    assert "привязан к вашему кабинету" in page.content()

    # Back to the first account with the switcher: a plain form, no JavaScript needed.
    page.select_option("#cab-switch-account", str(live_world.resident_account.id))
    page.click(".cab-switcher button[type=submit]")
    account_url = f"{base}/accounts/{live_world.resident_account.id}/"
    page.wait_for_url(account_url)
    assert live_world.resident_account.holder_last_name in page.content()
    _no_sideways_scroll(page)
    page.screenshot(path=str(screenshots / "account.png"), full_page=True)

    for section, name in (
        ("services/", "services"),
        ("charges/", "charges"),
        ("payments/", "payments"),
        ("charts/", "charts"),
    ):
        response = page.goto(account_url + section)
        assert response.status == 200, section
        if name == "charges":
            page.click("details.cab-line summary >> nth=0")
            assert page.is_visible("details.cab-line[open] .cab-line__body")
        if name == "charts":
            loaded = page.evaluate(
                "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"
            )
            assert loaded, "the SVG charts load as images"
        _no_sideways_scroll(page)
        page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
