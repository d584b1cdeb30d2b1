"""The cabinet's receipts: the archive, a receipt in the browser, its PDF; others' are a 404."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.html import escape

from kvartplata.lib.money import format_rub
from kvartplata.receipts import pdf
from kvartplata.receipts.models import Receipt
from kvartplata.receipts.tests.test_qr import write_pbm, zbar_decode

PATH_RUN = re.compile(r"M(\d+) (\d+)h(\d+)v1h-\d+z")


def _url(name, receipt):
    return reverse(f"cabinet:receipts:{name}", args=[receipt.account_id, receipt.pk])


def test_it_lists_the_accounts_receipts_newest_first(
    demo_client, world, django_assert_max_num_queries
):
    url = reverse("cabinet:receipts:receipt_list", args=[world.resident_account.id])
    with django_assert_max_num_queries(8):
        response = demo_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    receipts = list(Receipt.objects.filter(account=world.resident_account).order_by("-month"))
    assert len(receipts) == 3
    positions = [html.index(f"№&nbsp;{r.number}") for r in receipts]
    assert positions == sorted(positions)
    for month in ("октябрь 2026", "сентябрь 2026", "август 2026"):
        assert month in html
    for r in receipts:
        assert format_rub(r.total_due) in html
        assert _url("receipt_detail", r) in html
        assert _url("receipt_pdf", r) in html
    assert "открыть" in html and "скачать PDF" in html
    # Another account's receipts are not listed.
    others = Receipt.objects.exclude(account=world.resident_account)
    assert not any(f"№&nbsp;{r.number}<" in html for r in others)


def test_it_shows_a_receipt_in_the_browser(
    demo_client, demo_receipt, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        response = demo_client.get(_url("receipt_detail", demo_receipt))
    assert response.status_code == 200
    html = response.content.decode()
    s = demo_receipt.data
    holder = s["account"]["holder"]
    expected = [
        "Квитанция за октябрь 2026",
        f"№ {demo_receipt.number}",
        f"{holder['last']} {holder['first']} {holder['middle']}",
        s["account"]["address"],
        s["account"]["number"],
        s["organization"]["name"],
        s["organization"]["inn"],
        format_rub(Decimal(s["totals"]["total_due"])),
        format_rub(Decimal(s["totals"]["payments"])),
        "Итого за период",
        "1. Сведения о плательщике и исполнителе услуг",
        "Код для подключения к личному кабинету",
        demo_receipt.account.link_code,
        "2. Информация для внесения платы получателям платежа",
        "3. Расчёт размера платы",
        "4. Справочная информация",
        "5. Сведения о перерасчётах",
        "6. Расчёт суммы к оплате с учётом рассрочки платежа",
        "Рассрочка не предоставлялась.",
        format_rub(Decimal(s["totals"]["charged"])).removesuffix("\u00a0₽"),
        format_rub(Decimal(s["totals"]["total_individual"])).removesuffix("\u00a0₽"),
    ]
    for charge in s["charges"]:
        expected.append(charge["service"])
        expected.append(format_rub(Decimal(charge["total"])).removesuffix("\u00a0₽"))
    for meter in s["meters"]:
        expected.append(meter["serial"])
    for payee in s["payees"]:
        expected += [payee["name"], payee["bank"]["account"], payee["bank"]["bic"]]
    missing = [item for item in expected if escape(item) not in html]
    assert not missing, missing
    headings = [html.index(f">{n}. ") for n in range(1, 7)]
    assert headings == sorted(headings)
    assert f'href="{_url("receipt_pdf", demo_receipt)}"' in html
    assert f'href="{_url("receipt_print", demo_receipt)}"' in html
    assert "Скачать PDF" in html and "Печать" in html
    # A strict CSP is coming: no inline scripts, styles or style attributes.
    assert "<script" not in html
    assert "style=" not in html
    assert "<style" not in html


def _svg_codes(html: str) -> list[list[bytes]]:
    codes = []
    for svg in re.findall(r"<svg class=\"receipt-qr__code\".*?</svg>", html, re.S):
        side = int(re.search(r'viewBox="0 0 (\d+) \1"', svg)[1])
        grid = [bytearray(side) for _ in range(side)]
        d = re.search(r'<path fill="#000" d="([^"]*)"', svg)[1]
        assert PATH_RUN.sub("", d) == ""  # nothing but runs
        for x, y, w in PATH_RUN.findall(d):
            for k in range(int(x), int(x) + int(w)):
                grid[int(y)][k] = 1
        codes.append([bytes(row) for row in grid])
    return codes


def test_it_shows_qr_codes_that_decode_to_the_payee_texts(demo_client, demo_receipt, tmp_path):
    html = demo_client.get(_url("receipt_detail", demo_receipt)).content.decode()
    codes = _svg_codes(html)
    s = demo_receipt.data
    assert len(codes) == len(s["payees"])
    for k, (rows, payee) in enumerate(zip(codes, s["payees"], strict=True)):
        path = tmp_path / f"code{k}.pbm"
        write_pbm(rows, path, scale=4, border=0)  # the SVG has its own quiet zone
        assert zbar_decode(path) == [pdf.payee_qr_text(s, payee)]


def test_it_downloads_the_pdf(demo_client, demo_receipt, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = demo_client.get(_url("receipt_pdf", demo_receipt))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    name = f"kvitanciya-{demo_receipt.account.number}-2026-10.pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert "no-store" in response["Cache-Control"]
    assert response.content == pdf.render_receipt(demo_receipt.data)


def test_it_opens_the_pdf_inline_for_printing(demo_client, demo_receipt):
    response = demo_client.get(_url("receipt_print", demo_receipt))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("inline;")
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF-")


@pytest.mark.parametrize("name", ["receipt_detail", "receipt_pdf", "receipt_print"])
def test_it_hides_another_accounts_receipt(client, outsider, demo_receipt, name):
    client.force_login(outsider)
    assert client.get(_url(name, demo_receipt)).status_code == 404
    # Nor may the outsider reach it through their own account in the URL.
    own = outsider.account_links.get().account_id
    url = reverse(f"cabinet:receipts:{name}", args=[own, demo_receipt.pk])
    assert client.get(url).status_code == 404


def test_it_hides_another_accounts_archive(client, outsider, world):
    client.force_login(outsider)
    url = reverse("cabinet:receipts:receipt_list", args=[world.resident_account.id])
    assert client.get(url).status_code == 404


def test_it_asks_a_visitor_to_sign_in(client, demo_receipt):
    for name in ("receipt_detail", "receipt_pdf"):
        response = client.get(_url(name, demo_receipt))
        assert response.status_code == 302
        assert "/login/" in response["Location"]


def test_it_refuses_other_methods(demo_client, demo_receipt):
    assert demo_client.post(_url("receipt_pdf", demo_receipt)).status_code == 405
