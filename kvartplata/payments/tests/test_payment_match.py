"""Matching an unmatched payment by hand: posted once, never twice, never after a return."""

from decimal import Decimal

import pytest

from kvartplata.billing.models import LedgerEntry
from kvartplata.payments.models import Payment
from kvartplata.payments.services import PaymentError, payment_match
from kvartplata.payments.tests.conftest import line, registry


@pytest.fixture
def unmatched(world, import_text):
    import_text(registry([line("99999999", "70.00", op="U1", when="02.11.2026 08:00:00")]))
    return Payment.objects.get(natural_key="U1")


def test_it_posts_the_payment_to_the_chosen_account(world, accounts, staff, unmatched):
    account = accounts[2]
    payment = payment_match(
        organization=world.organization, payment_id=unmatched.pk, account=account, user=staff
    )
    assert payment.status == Payment.Status.MATCHED
    assert payment.account == account and payment.matched_by == staff and payment.matched_at
    entries = LedgerEntry.objects.filter(kind="payment", source_id=payment.pk)
    assert sum(e.amount for e in entries) == Decimal("-70.00")
    assert {e.account_id for e in entries} == {account.pk}
    assert {e.entry_date.isoformat() for e in entries} == {"2026-11-02"}


def test_it_refuses_a_second_match(world, accounts, staff, unmatched):
    payment_match(
        organization=world.organization, payment_id=unmatched.pk, account=accounts[2], user=staff
    )
    entries = LedgerEntry.objects.filter(kind="payment", source_id=unmatched.pk)
    # One entry per payee the payment was split among, all on the matched account.
    posted = list(entries.values_list("account_id", "amount").order_by("id"))
    assert posted and {account for account, _amount in posted} == {accounts[2].id}
    with pytest.raises(PaymentError, match="уже сопоставлен или возвращён"):
        payment_match(
            organization=world.organization,
            payment_id=unmatched.pk,
            account=accounts[3],
            user=staff,
        )
    assert list(entries.values_list("account_id", "amount").order_by("id")) == posted


def test_it_refuses_an_account_of_another_organization(world, accounts, staff, unmatched):
    from kvartplata.registry.models import Organization

    other = Organization.objects.create(name="Другая УК", short_name="Другая", inn="7700000000")
    with pytest.raises(PaymentError, match="другой организации"):
        payment_match(organization=other, payment_id=unmatched.pk, account=accounts[2], user=staff)
    unmatched.refresh_from_db()
    assert unmatched.status == Payment.Status.UNMATCHED
