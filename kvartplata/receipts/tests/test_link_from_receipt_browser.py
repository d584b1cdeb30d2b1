"""A resident holding nothing but a receipt links its account: the number and the code are read
from the printed PDF (pdftotext), typed into the linking form in a browser, and the account
appears in the cabinet."""

import re
import shutil
import subprocess

import pytest
from django.conf import settings

from kvartplata.receipts.models import Receipt
from kvartplata.receipts.services import receipt_pdf
from kvartplata.receipts.tests.test_pdf import need


def printed(receipt: Receipt, tmp_path) -> str:
    need("pdftotext")
    _name, data = receipt_pdf(receipt)
    path = tmp_path / "receipt.pdf"
    path.write_bytes(data)
    out = subprocess.run(  # noqa: S603 - fixed argv of a local tool
        [shutil.which("pdftotext"), "-raw", str(path), "-"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return " ".join(out.stdout.decode("utf-8").split())


@pytest.mark.browser
def test_it_links_an_account_with_nothing_but_its_printed_receipt(
    browser_page, live_world, tmp_path
):
    spare = live_world.spare_account
    receipt = Receipt.objects.filter(account=spare).order_by("-month").first()
    text = printed(receipt, tmp_path)
    number = re.search(r"Лицевой счёт (\d+)", text)[1]
    code = re.search(r"Код для подключения к личному кабинету: (\S+)", text)[1]
    assert number == spare.number
    assert code == spare.link_code  # what the resident reads is what linking checks

    page = browser_page
    base = page.base_url
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", "demo")
    page.fill("input[name=password]", settings.DEMO_RESIDENT_PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}/accounts/{live_world.resident_account.id}/")

    page.goto(f"{base}/accounts/link/")
    assert page.inner_text("label[for=id_proof]") == "Код для подключения к личному кабинету"
    assert "сумма последней квитанции" not in page.content()
    page.fill("#id_number", number)
    page.fill("#id_proof", code)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}/accounts/{spare.id}/")
    assert "привязан к вашему кабинету" in page.content()


def _login(page, world):
    base = page.base_url
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", "demo")
    page.fill("input[name=password]", settings.DEMO_RESIDENT_PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}/accounts/{world.resident_account.id}/")


@pytest.mark.browser
def test_it_shows_the_receipts_sections_and_code_on_a_phone(browser_page, live_world):
    page = browser_page
    _login(page, live_world)
    account = live_world.resident_account
    receipt = Receipt.objects.filter(account=account).order_by("-month").first()
    page.goto(f"{page.base_url}/accounts/{account.id}/receipts/{receipt.id}/")
    headings = page.locator("h2").all_inner_texts()
    numbered = [h for h in headings if re.match(r"\d\. ", h)]
    assert [h[0] for h in numbered] == ["1", "2", "3", "4", "5", "6"]
    assert page.inner_text("[data-testid=link-code]") == account.link_code
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the receipt page is {width}px wide at 375px"
