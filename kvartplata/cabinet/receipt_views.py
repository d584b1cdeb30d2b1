"""The resident's receipt pages: the archive of an account, one receipt in HTML, its PDF."""

import re
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from kvartplata.cabinet.access import linked_account, page_context
from kvartplata.lib.money import format_rub, format_volume
from kvartplata.lib.periods import period_label
from kvartplata.receipts import qr
from kvartplata.receipts.models import Receipt
from kvartplata.receipts.pdf import PAYEE_BALANCE_FIELDS, link_code_text, payee_qr_text
from kvartplata.receipts.services import receipt_pdf

SECTION = "cabinet:receipts:receipt_list"
DASH = "—"
QUIET = 4  # modules of white around a QR code, as the QR standard asks
_RUNS = re.compile(b"\x01+")


def _receipt(request, account_id: int, receipt_id: int) -> Receipt:
    """A receipt of an account linked to the user; a receipt of any other account is a 404."""
    account = linked_account(request, account_id)
    receipt = get_object_or_404(Receipt, pk=receipt_id, account=account)
    receipt.account = account  # already loaded with its premises: no second query
    return receipt


@login_required
@require_GET
def receipt_list(request, account_id: int):
    account = linked_account(request, account_id)
    receipts = [
        {
            "receipt": r,
            "month": period_label(r.month),
            "total": format_rub(r.total_due),
        }
        for r in Receipt.objects.filter(account=account)
        .only("id", "month", "number", "total_due", "issued_at")
        .order_by("-month", "-number")
    ]
    return render(
        request,
        "cabinet/receipts/receipt_list.html",
        page_context(request, account, SECTION, receipts=receipts),
    )


@login_required
@require_GET
def receipt_detail(request, account_id: int, receipt_id: int):
    receipt = _receipt(request, account_id, receipt_id)
    return render(
        request,
        "cabinet/receipts/receipt_detail.html",
        page_context(
            request,
            receipt.account,
            SECTION,
            receipt=receipt,
            doc=present(receipt.data),
            month=period_label(receipt.month),
        ),
    )


@login_required
@require_GET
def receipt_download(request, account_id: int, receipt_id: int):
    """The PDF as a file to keep."""
    return _pdf_response(_receipt(request, account_id, receipt_id), "attachment")


@login_required
@require_GET
def receipt_print(request, account_id: int, receipt_id: int):
    """The PDF opened in the browser's viewer, which prints it exactly as laid out."""
    return _pdf_response(_receipt(request, account_id, receipt_id), "inline")


def _pdf_response(receipt: Receipt, disposition: str) -> HttpResponse:
    name, data = receipt_pdf(receipt)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    # Personal data: not kept by shared caches nor the browser's disk cache.
    response["Cache-Control"] = "no-store"
    return response


# --- the snapshot as a page ----------------------------------------------------------------


def _money(value: str | None) -> str:
    return DASH if value in (None, "") else format_rub(Decimal(value))


def _amount(value: str | None) -> str:
    """An amount in a table column (the column header says «руб.»)."""
    return DASH if value in (None, "") else format_rub(Decimal(value)).removesuffix("\u00a0₽")


def _vol(value: str | None) -> str:
    if value in (None, ""):
        return DASH
    return format_volume(Decimal(value), min(len(value.partition(".")[2]), 6))


def _price(value: str | None) -> str:
    return DASH if value in (None, "") else format_volume(Decimal(value), 2)


def qr_svg(text: str, label: str) -> str:
    """The payment QR code as an inline SVG: one path of the dark runs, on a white square.

    Only presentation attributes (fill, shape-rendering): nothing a strict CSP refuses.
    """
    rows = qr.payment_qr_matrix(text)
    n = len(rows)
    side = n + 2 * QUIET
    runs = []
    for y, row in enumerate(rows):
        for run in _RUNS.finditer(row):
            start, end = run.span()
            runs.append(f"M{start + QUIET} {y + QUIET}h{end - start}v1h-{end - start}z")
    safe_label = escape(label)  # the whole string is marked safe below
    return mark_safe(  # noqa: S308 - built from digits and the escaped label only
        f'<svg class="receipt-qr__code" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {side} {side}" role="img" aria-label="{safe_label}" '
        f'shape-rendering="crispEdges"><rect width="{side}" height="{side}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(runs)}"/></svg>'
    )


def present(s: dict) -> dict:
    """Display strings of a snapshot, in the same figures the PDF prints (never recomputed)."""
    holder = s["account"]["holder"]
    org = s["organization"]
    totals = s["totals"]
    opening = Decimal(totals["opening"])
    notes = []
    charges = []
    for c in s["charges"]:
        note = None
        if c["explanation"]:
            notes.append(c["explanation"])
            note = len(notes)
        charges.append(
            {
                "service": c["service"],
                "note": note,
                "provider": c["provider"],
                "unit": c["unit"],
                "volume": _vol(c["volume"]),
                "common_volume": _vol(c["common_volume"]),
                "tariff": _price(c["tariff"]),
                "amount_individual": _amount(c.get("amount_individual")),
                "amount_common": _amount(c.get("amount_common")),
                "charged": _amount(c["charged"]),
                "coefficient_amount": _amount(c["coefficient_amount"]),
                "recalculations": _amount(c["recalculations"]),
                "privileges": _amount(c["privileges"]),
                "total": _amount(c["total"]),
                "total_individual": _amount(c.get("total_individual")),
                "total_common": _amount(c.get("total_common")),
                "method": c["method"],
            }
        )
    payees = []
    for p in s["payees"]:
        amount = Decimal(p["amount"])
        payees.append(
            {
                "name": p["name"],
                "inn": p["inn"],
                "kpp": p["kpp"],
                "bank": p["bank"],
                "amount": format_rub(amount) if amount > 0 else DASH,
                "purpose": p["purpose"],
                "services": ", ".join(p["services"]),
                "qr": qr_svg(payee_qr_text(s, p), f"QR-код для оплаты: {p['name']}"),
                # The payee's own debt and advance, when the snapshot carries them (ledger).
                "balances": [
                    (label, _money(p[key]))
                    for key, label in PAYEE_BALANCE_FIELDS
                    if p.get(key) not in (None, "") and Decimal(p[key])
                ],
            }
        )
    living = s["account"]["living_area"]
    return {
        "number": s["number"],
        "issued": datetime.fromisoformat(s["issued_at"]).date(),
        "due_date": date.fromisoformat(s["due_date"]),
        "payer": " ".join(x for x in (holder["last"], holder["first"], holder["middle"]) if x),
        "account": s["account"],
        "link_code": link_code_text(s["account"]),
        "area": _vol(s["account"]["area"]),
        "living_area": _vol(living) if living else None,
        "org": org,
        "meters": [
            {**m, "previous": _vol(m["previous"]), "current": _vol(m["current"])}
            for m in s["meters"]
        ],
        "charges": charges,
        "notes": notes,
        "totals": {
            "opening_label": (
                "Долг на начало периода" if opening >= 0 else "Аванс на начало периода"
            ),
            "opening": format_rub(abs(opening)),
            "charges": _money(totals["charges"]),
            "charges_plain": _amount(totals["charges"]),
            "recalculations": _money(totals["recalculations"]),
            "recalculations_plain": _amount(totals["recalculations"]),
            **{
                key: _amount(totals.get(key))
                for key in (
                    "amount_individual",
                    "amount_common",
                    "charged",
                    "coefficient_amount",
                    "privileges",
                    "total_individual",
                    "total_common",
                )
            },
            "penalties": _money(totals["penalties"]),
            "payments": _money(totals["payments"]),
            "total_due": _money(totals["total_due"]),
        },
        "recalculations": [
            {
                "service": r["service"] or "Перерасчёт",
                "month": period_label(date.fromisoformat(r["month"])),
                "amount": _money(r["amount"]),
                "reason": r["reason"],
            }
            for r in s["recalculations"]
        ],
        "norms": [
            {**n, "individual": _vol(n["individual"]), "common": _vol(n["common"])}
            for n in s["reference"]["norms"]
        ],
        "building": [
            {
                **b,
                "reading": _vol(b["reading"]),
                "volume": _vol(b["volume"]),
                "flats": _vol(b.get("flats")),
                "common_property": _vol(b.get("common_property")),
            }
            for b in s["reference"]["building"]
        ],
        "instalments": [
            {**i, "amount": _money(i["amount"]), "interest": _money(i["interest"])}
            for i in s.get("instalments") or []
        ],
        "payees": payees,
        "notice": s["notice"],
        # Why the sum changed (absent from receipts issued before #19 and from first months).
        "change": s.get("change"),
    }
