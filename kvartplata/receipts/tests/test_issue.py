"""Issuing receipts at close: one per account, numbered, frozen, and the same document forever."""

import copy
import datetime
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from kvartplata.backoffice.closing import period_close_with_receipts
from kvartplata.billing import services as billing
from kvartplata.billing.models import AccountBalance, Service, Tariff
from kvartplata.lib.money import format_rub
from kvartplata.receipts import pdf
from kvartplata.receipts.models import Receipt
from kvartplata.receipts.services import receipts_issue
from kvartplata.receipts.snapshot import validate_snapshot
from kvartplata.receipts.tests.conftest import OCTOBER
from kvartplata.receipts.tests.test_pdf import need, page_count, raw_text
from kvartplata.receipts.tests.test_qr import zbar_decode
from kvartplata.registry.models import Period, PersonalAccount

NOVEMBER = datetime.date(2026, 11, 1)


def test_it_issues_one_receipt_per_account_and_closed_month(world):
    accounts = PersonalAccount.objects.filter(organization=world.organization).count()
    closed = list(Period.objects.filter(organization=world.organization, state="closed"))
    assert len(closed) == 3
    for period in closed:
        receipts = Receipt.objects.filter(period=period)
        assert receipts.count() == accounts
        assert receipts.values("account").distinct().count() == accounts
        assert all(r.month == period.month for r in receipts)
    assert not Receipt.objects.filter(period__state="open").exists()


def test_it_numbers_receipts_uniquely_and_increasing_per_organization(world):
    rows = list(
        Receipt.objects.filter(organization=world.organization)
        .order_by("month", "number")
        .values_list("month", "number")
    )
    numbers = [n for _, n in rows]
    assert len(set(numbers)) == len(numbers)
    assert numbers == sorted(numbers)
    # A later month's receipts all come after an earlier month's.
    by_month = {}
    for month, number in rows:
        by_month.setdefault(month, []).append(number)
    months = sorted(by_month)
    for earlier, later in zip(months, months[1:], strict=False):
        assert max(by_month[earlier]) < min(by_month[later])
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def test_it_freezes_a_valid_snapshot_with_the_balance_as_total(world):
    balances = {
        (b.account_id, b.period_id): b
        for b in AccountBalance.objects.filter(period__organization=world.organization)
    }
    for receipt in Receipt.objects.filter(organization=world.organization):
        s = receipt.data
        validate_snapshot(s)
        balance = balances[(receipt.account_id, receipt.period_id)]
        assert s["number"] == receipt.number
        assert Decimal(s["totals"]["total_due"]) == balance.closing == receipt.total_due
        assert Decimal(s["totals"]["opening"]) == balance.opening
        assert Decimal(s["totals"]["payments"]) == balance.payments
        assert Decimal(s["totals"]["penalties"]) == balance.penalties
        # The printed totals add up to the amount due (charge lines include recalculations).
        t = {k: Decimal(v) for k, v in s["totals"].items()}
        assert t["opening"] + t["charges"] + t["penalties"] - t["payments"] == t["total_due"]
        assert sum(Decimal(c["total"]) for c in s["charges"]) == t["charges"]
        # Each payee asks its own debt + month, never negative: together at least the amount
        # due (more when one payee's advance cannot pay another's debt; test_payee_amounts).
        payees = sum(Decimal(p["amount"]) for p in s["payees"])
        assert all(Decimal(p["amount"]) >= 0 for p in s["payees"])
        assert payees >= max(balance.closing, 0)
        assert s["account"]["number"] == receipt.account.number


def test_it_does_not_issue_twice_for_a_month(world):
    period = Period.objects.get(organization=world.organization, month=OCTOBER)
    before = list(Receipt.objects.filter(period=period).values_list("id", "number", "data"))
    assert receipts_issue(period=period) == 0
    after = list(Receipt.objects.filter(period=period).values_list("id", "number", "data"))
    assert after == before


def test_it_refuses_to_change_or_delete_an_issued_receipt(demo_receipt):
    demo_receipt.total_due = Decimal("0.00")
    with pytest.raises(ValidationError):
        demo_receipt.save()
    with pytest.raises(ValidationError):
        demo_receipt.delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        Receipt.objects.filter(pk=demo_receipt.pk).update(total_due=Decimal("0.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Receipt.objects.filter(pk=demo_receipt.pk).update(data={"forged": True})
    fresh = Receipt.objects.get(pk=demo_receipt.pk)
    assert fresh.total_due != Decimal("0.00")
    assert "forged" not in fresh.data


def test_it_renders_the_same_bytes_twice(demo_receipt):
    first = pdf.render_receipt(demo_receipt.data)
    again = pdf.render_receipt(Receipt.objects.get(pk=demo_receipt.pk).data)
    assert first == again


def test_it_renders_the_same_document_after_the_live_tables_change(world, demo_receipt):
    before = pdf.render_receipt(demo_receipt.data)
    account = world.resident_account
    org = world.organization
    # A new tariff, renamed services and organization, a new holder name, a recalculation of
    # October booked in November, and November billed and closed.
    service = Service.objects.filter(organization=org).order_by("sort_order").first()
    Tariff.objects.create(service=service, valid_from=NOVEMBER, price=Decimal("99.99"))
    Service.objects.filter(organization=org).update(name="Переименовано")
    org.name = "ООО «Новое имя»"
    org.bic = "044525225"
    org.save()
    PersonalAccount.objects.filter(pk=account.pk).update(holder_last_name="Другая")
    billing.billing_run(organization=org)
    billing.recalculation_add(
        account=account,
        concerns_month=OCTOBER,
        amount=Decimal("-123.45"),
        reason="Недопоставка горячей воды в октябре",
        service=service,
    )
    period_close_with_receipts(organization=org)
    after = pdf.render_receipt(Receipt.objects.get(pk=demo_receipt.pk).data)
    assert after == before
    # The correction shows up on the later receipt instead.
    november = Receipt.objects.get(account=account, month=NOVEMBER)
    assert november.number > demo_receipt.number
    recalcs = november.data["recalculations"]
    assert {
        "service": "Переименовано",
        "month": "2026-10-01",
        "amount": "-123.45",
        "reason": "Недопоставка горячей воды в октябре",
    } in recalcs
    assert november.data["account"]["holder"]["last"] == "Другая"


def _rub(value: str) -> str:
    return format_rub(Decimal(value))


def _num(value: str) -> str:
    return format_rub(Decimal(value)).removesuffix("\u00a0₽")


def test_it_prints_every_section_with_the_right_numbers(demo_receipt, tmp_path):
    s = demo_receipt.data
    text = " ".join(raw_text(pdf.render_receipt(s), tmp_path).split())
    holder = s["account"]["holder"]
    org = s["organization"]
    t = s["totals"]
    expected = [
        "ЕДИНЫЙ ПЛАТЁЖНЫЙ ДОКУМЕНТ",
        "за октябрь 2026 г.",
        f"№ {demo_receipt.number} от",
        "1. Сведения о плательщике и исполнителе услуг",
        f"Код для подключения к личному кабинету: {demo_receipt.account.link_code}",
        f"{holder['last']} {holder['first']} {holder['middle']}",
        s["account"]["address"],
        s["account"]["number"],
        f"{s['account']['residents']} чел.",
        "Исполнитель услуг",
        f"ИНН {org['inn']} КПП {org['kpp']} ОГРН {org['ogrn']}",
        f"БИК {org['bank']['bic']} К/с {org['bank']['corr']}",
        "2. Информация для внесения платы получателям платежа",
        "3. Расчёт размера платы",
        "Итого за период",
        _num(t["charges"]),
        _num(t["charged"]),
        _num(t["amount_individual"]),
        _num(t["total_individual"]),
        "Начислено за период",
        "Оплачено в периоде",
        _rub(t["payments"]).replace("\u00a0", " "),
        "ИТОГО К ОПЛАТЕ",
        _rub(t["total_due"]).replace("\u00a0", " "),
        f"до {datetime.date.fromisoformat(s['due_date']):%d.%m.%Y}",
        "4. Справочная информация",
        "5. Сведения о перерасчётах",
        "6. Расчёт суммы к оплате с учётом рассрочки платежа",
        "Рассрочка не предоставлялась",
    ]
    for payee in s["payees"]:
        expected += [
            payee["name"],
            f"Банк: {payee['bank']['name']}",
            f"К/с {payee['bank']['corr']}",
        ]
    for meter in s["meters"]:
        expected.append(meter["serial"])
    for charge in s["charges"]:
        expected.append(_num(charge["total"]))
    for payee in s["payees"]:
        if Decimal(payee["amount"]) > 0:
            expected.append(_rub(payee["amount"]).replace("\u00a0", " "))
    missing = [item for item in expected if item.replace("\u00a0", " ") not in text]
    assert not missing, missing
    assert "…" not in text
    headings = [text.index(f"{n}. ") for n in range(1, 7)]
    assert headings == sorted(headings)


def test_it_fits_every_demo_receipt_on_one_page(world, tmp_path):
    # Nothing is cut, and yet a usual receipt of the demo stays one A4 sheet.
    pages = {page_count(pdf.render_receipt(r.data), tmp_path) for r in Receipt.objects.all()}
    assert pages == {1}


def test_it_prints_qr_codes_that_decode_to_the_payee_fields(demo_receipt, tmp_path):
    need("pdftoppm")
    s = demo_receipt.data
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf.render_receipt(s))
    subprocess.run(  # noqa: S603 - fixed argv of a local tool
        [shutil.which("pdftoppm"), "-r", "200", "-png", "-singlefile", str(path),
         str(tmp_path / "page")],
        check=True,
        timeout=120,
    )  # fmt: skip
    texts = zbar_decode(tmp_path / "page.png")
    assert len(texts) == len(s["payees"])
    decoded = {}
    for text in texts:
        separator = text[7]
        fields = dict(part.split("=", 1) for part in text.split(separator)[1:])
        decoded[fields["PayeeINN"]] = fields
    for payee in s["payees"]:
        fields = decoded[payee["inn"]]
        assert fields["Name"] == payee["name"]
        assert fields["PersonalAcc"] == payee["bank"]["account"]
        assert fields["BIC"] == payee["bank"]["bic"]
        assert fields["CorrespAcc"] == payee["bank"]["corr"]
        assert fields["KPP"] == payee["kpp"]
        assert fields["PersAcc"] == demo_receipt.account.number
        assert fields["PaymPeriod"] == "102026"
        assert fields["TechCode"] == "02"
        assert fields["LastName"] == s["account"]["holder"]["last"]
        kopecks = int(Decimal(payee["amount"]) * 100)
        if kopecks > 0:
            assert fields["Sum"] == str(kopecks)
        else:
            assert "Sum" not in fields
    assert all(t.startswith("ST00011") for t in texts)


def test_it_keeps_payees_adding_up_with_more_than_three_providers(world):
    from kvartplata.receipts.builder import SnapshotBuilder

    period = Period.objects.get(organization=world.organization, month=OCTOBER)
    builder = SnapshotBuilder(period)
    # A fourth provider whose share the receipt cannot list: it stays with the executor.
    services = sorted(builder.services.values(), key=lambda s: s.sort_order)
    extra = copy.copy(services[-1].provider)
    extra.pk = 10_000
    extra.inn = "7700000000"
    services[-1].provider = extra
    services[-1].provider_id = extra.pk
    account = world.resident_account
    snap = builder.build([account.id], {account.id: 1}, datetime.datetime(2026, 11, 1))[account.id]
    validate_snapshot(snap)
    closing = AccountBalance.objects.get(account=account, period=period).closing
    assert len(snap["payees"]) <= 3
    assert sum(Decimal(p["amount"]) for p in snap["payees"]) >= max(closing, 0)


def test_every_receipt_line_multiplies_out(world):
    """volume × tariff (+ common-house volume × tariff) gives the charged amount of each line."""
    from decimal import ROUND_HALF_UP

    checked = 0
    for receipt in Receipt.objects.all():
        for line in receipt.data["charges"]:
            if line["tariff"] is None or line["volume"] is None and line["common_volume"] is None:
                continue
            tariff = Decimal(line["tariff"])
            volume = Decimal(line["volume"] or 0)
            common = Decimal(line["common_volume"] or 0)
            expected = sum(
                (v * tariff).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                for v in (volume, common)
            )
            charged = Decimal(line["charged"]) + Decimal(line["coefficient_amount"])
            assert charged == expected, (receipt.number, line)
            checked += 1
    assert checked > 50
