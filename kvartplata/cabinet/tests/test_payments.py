"""Payments and money movement (R9): month by month, payments with channel; the sums add up."""

import datetime
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from kvartplata.billing import ledger
from kvartplata.billing.models import AccountBalance
from kvartplata.lib.money import format_rub
from kvartplata.payments.models import Payment
from kvartplata.registry.models import Period

ZERO = Decimal("0.00")


def _get(client, world, **params):
    return client.get(reverse("cabinet:payments", args=[world.resident_account.id]), params)


def test_it_adds_up_month_by_month_and_in_total(demo_client, world):
    response = _get(demo_client, world)
    assert response.status_code == 200
    movement = response.context["movement"]
    assert [m.month for m in movement.months] == [
        datetime.date(2026, m, 1) for m in (7, 8, 9, 10, 11)
    ]
    previous = None
    for m in movement.months:
        assert m.opening + m.charges + m.recalculations + m.penalties - m.payments == m.closing
        assert sum((p.amount for p in m.payment_lines), ZERO) == m.payments
        if previous is not None:
            assert m.opening == previous.closing
        previous = m
    assert movement.adds_up
    assert movement.charges == sum((m.charges for m in movement.months), ZERO)
    assert movement.payments == sum((m.payments for m in movement.months), ZERO)
    html = response.content.decode()
    assert format_rub(movement.payments) in html
    assert format_rub(movement.closing) in html


def test_it_matches_the_materialized_balances_and_the_journal(demo_client, world):
    account = world.resident_account
    movement = _get(demo_client, world).context["movement"]
    for m in movement.months[:-1]:
        b = AccountBalance.objects.get(account=account, month=m.month)
        assert (m.opening, m.charges, m.recalculations, m.penalties, m.payments, m.closing) == (
            b.opening,
            b.charges,
            b.recalculations,
            b.penalties,
            b.payments,
            b.closing,
        )
    current = Period.objects.get(organization=world.organization, state="open")
    live = movement.months[-1]
    sums = ledger.movement(current, [account.id]).get(account.id, {})
    assert live.payments == -sums.get("payment", ZERO)
    assert live.opening == movement.months[-2].closing


def test_it_lists_payments_with_date_amount_and_channel(demo_client, world):
    html = _get(demo_client, world).content.decode()
    payments = Payment.objects.filter(account=world.resident_account)
    assert payments.exists()
    for p in payments:
        assert f"оплата {timezone.localtime(p.paid_at):%d.%m.%Y}, банк" in html
        assert format_rub(p.amount) in html


def test_it_says_debt_or_overpayment_at_the_end(demo_client, world):
    response = _get(demo_client, world)
    closing = response.context["movement"].closing
    html = response.content.decode()
    if closing > 0:
        assert f"задолженность {format_rub(closing)}" in html
    elif closing < 0:
        assert f"переплата {format_rub(-closing)}" in html
    else:
        assert "задолженности нет" in html


def test_it_shows_a_chosen_range(demo_client, world):
    movement = _get(demo_client, world, **{"from": "2026-08", "to": "2026-09"}).context["movement"]
    assert [m.month for m in movement.months] == [
        datetime.date(2026, 8, 1),
        datetime.date(2026, 9, 1),
    ]
    august = AccountBalance.objects.get(
        account=world.resident_account, month=datetime.date(2026, 8, 1)
    )
    assert movement.opening == august.opening


def test_it_refuses_a_reversed_or_bad_range_with_a_message(demo_client, world):
    for params in ({"from": "2026-10", "to": "2026-08"}, {"from": "x", "to": "2026-08"}):
        response = _get(demo_client, world, **params)
        assert response.status_code == 200
        assert [m.message for m in response.context["messages"]]
        assert len(response.context["movement"].months) == 5
