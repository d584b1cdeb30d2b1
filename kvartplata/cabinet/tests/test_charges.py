"""Charges of a month (R6): per service lines, common-house lines, recalculations, totals."""

import datetime
from decimal import Decimal

from django.urls import reverse
from django.utils.html import escape

from kvartplata.backoffice.closing import period_close_with_receipts
from kvartplata.billing.models import Charge, LedgerEntry, Recalculation
from kvartplata.billing.services import billing_run, recalculation_add
from kvartplata.lib.money import format_rub, format_volume

OCTOBER = datetime.date(2026, 10, 1)


def _get(client, world, **params):
    url = reverse("cabinet:charges", args=[world.resident_account.id])
    return client.get(url, params)


def test_it_shows_every_charge_line_of_the_month_with_its_explanation(demo_client, world):
    response = _get(demo_client, world, month="2026-10")
    assert response.status_code == 200
    html = response.content.decode()
    charges = Charge.objects.filter(account=world.resident_account, period__month=OCTOBER)
    assert charges.exists()
    for charge in charges:
        assert format_rub(charge.amount) in html
        assert escape(charge.explanation) in html
        if charge.kind == Charge.Kind.COMMON_HOUSE and "building_volume" in charge.details:
            assert format_volume(Decimal(charge.details["building_volume"])) in html
    assert html.count("<details") >= charges.count()


def test_it_shows_recalculations_with_their_month_and_reason(demo_client, world):
    recalcs = Recalculation.objects.filter(account=world.resident_account, period__month=OCTOBER)
    assert recalcs.exists(), "the demo resident has recalculations in October"
    html = _get(demo_client, world, month="2026-10").content.decode()
    for r in recalcs:
        assert escape(r.reason) in html
        assert format_rub(r.amount) in html
    assert "Перерасчёт за " in html


def test_it_adds_up_the_totals(demo_client, world):
    response = _get(demo_client, world, month="2026-10")
    data = response.context["data"]
    account = world.resident_account
    base = sum(
        Charge.objects.filter(account=account, period__month=OCTOBER).values_list(
            "amount", flat=True
        ),
        Decimal("0.00"),
    )
    recalc = sum(
        Recalculation.objects.filter(account=account, period__month=OCTOBER).values_list(
            "amount", flat=True
        ),
        Decimal("0.00"),
    )
    # The journal may hold a month's charges in one entry or one per provider.
    charge_entries = sum(
        LedgerEntry.objects.filter(
            account=account, period__month=OCTOBER, kind="charge"
        ).values_list("amount", flat=True),
        Decimal("0.00"),
    )
    assert data.base == base == charge_entries
    assert data.recalculated == recalc
    assert data.adjusted == base + recalc
    for group in data.services:
        assert group.adjusted == group.base + group.recalculated
    html = response.content.decode()
    assert format_rub(base + recalc) in html


def test_it_defaults_to_the_last_billed_month(demo_client, world):
    response = _get(demo_client, world)
    assert response.context["period"].month == OCTOBER
    assert "Начисления за октябрь 2026" in response.content.decode()


def test_it_says_the_open_month_is_not_issued_yet(demo_client, world):
    html = _get(demo_client, world, month="2026-11").content.decode()
    assert "ещё не выставлены" in html


def test_it_refuses_a_bad_month_with_a_message(demo_client, world):
    for bad in ("2026-13", "abc", "1999-01", "2026-1"):
        response = _get(demo_client, world, month=bad)
        assert response.status_code == 200
        assert response.context["period"].month == OCTOBER
        assert [m.message for m in response.context["messages"]]


def test_it_shows_a_recalculation_without_a_service(demo_client, world):
    recalculation_add(
        account=world.resident_account,
        concerns_month=datetime.date(2026, 9, 1),
        amount=Decimal("-150.00"),
        reason="Перерыв в подаче горячей воды 3–5 сентября",
    )
    billing_run(organization=world.organization)
    period_close_with_receipts(organization=world.organization)  # issued: now the resident sees it
    html = _get(demo_client, world, month="2026-11").content.decode()
    assert "Прочие перерасчёты" in html
    assert "Перерыв в подаче горячей воды" in html
    assert "Перерасчёт за сентябрь 2026" in html
    assert format_rub(Decimal("-150.00")) in html
