"""The ЕПД's block «Почему изменилась сумма» is frozen in the snapshot at issue time (#19)."""

from kvartplata.billing.bill_change import explanation, receipt_block, stored_explanation
from kvartplata.receipts.models import Receipt
from kvartplata.receipts.snapshot import validate_snapshot
from kvartplata.receipts.tests.conftest import OCTOBER
from kvartplata.registry.models import Period
from kvartplata.statements import selectors


def test_it_freezes_the_headline_and_the_largest_causes_in_the_receipt(world):
    periods = selectors.organization_periods(world.organization.id)
    october = next(p for p in periods if p.month == OCTOBER)
    receipt = Receipt.objects.get(account=world.resident_account, month=OCTOBER)
    why = explanation(world.resident_account.id, periods, october)
    validate_snapshot(receipt.data)
    assert receipt.data["change"] == receipt_block(why)
    assert receipt.data["change"]["headline"].startswith(why.headline)
    assert receipt.data["change"]["headline"].endswith("по сравнению с квитанцией за сентябрь 2026")
    # The three largest services' changes, one line each, with their causes.
    assert len(receipt.data["change"]["causes"]) == min(3, len(why.services))
    first = why.services[0]
    assert receipt.data["change"]["causes"][0].startswith(f"{first.name}: {first.signed} — ")


def test_it_leaves_the_block_out_of_the_first_issued_month(world):
    first = (
        Period.objects.filter(organization=world.organization, state=Period.State.CLOSED)
        .order_by("month")
        .first()
    )
    receipts = Receipt.objects.filter(period=first)
    assert receipts.exists()
    assert all("change" not in r.data for r in receipts)
    for r in receipts:
        validate_snapshot(r.data)


def test_it_freezes_the_whole_explanation_for_the_cabinet_and_the_e_mail(world):
    periods = selectors.organization_periods(world.organization.id)
    october = next(p for p in periods if p.month == OCTOBER)
    receipt = Receipt.objects.get(account=world.resident_account, month=OCTOBER)
    why = explanation(world.resident_account.id, periods, october)
    read = stored_explanation(receipt.data["change"], OCTOBER)
    assert read.headline == why.headline and read.change == why.change
    assert read.previous_month == why.previous_month
    assert [(s.name, s.amount, s.sentences, s.meters) for s in read.services] == [
        (s.name, s.amount, s.sentences, s.meters) for s in why.services
    ]


def test_an_older_receipt_has_no_whole_explanation_to_read():
    assert stored_explanation({"headline": "Сумма не изменилась", "causes": []}, OCTOBER) is None
    assert stored_explanation(None, OCTOBER) is None


def test_a_service_recalculated_for_many_months_still_validates(world):
    # One sentence per recalculation booked for a service: a year and more of them is a valid
    # receipt (a refused snapshot could never be rendered again).
    receipt = Receipt.objects.get(account=world.resident_account, month=OCTOBER)
    data = receipt.data
    service = data["change"]["services"][0]
    service["sentences"] = [f"перерасчёт за месяц {n}: +1,00 ₽" for n in range(120)]
    validate_snapshot(data)
