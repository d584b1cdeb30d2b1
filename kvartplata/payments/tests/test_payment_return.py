"""Returning an unmatched payment to the payer: it never reaches the ledger."""

import pytest

from kvartplata.billing.models import LedgerEntry
from kvartplata.payments.models import Payment
from kvartplata.payments.services import PaymentError, payment_match, payment_return
from kvartplata.payments.tests.conftest import line, registry


@pytest.fixture
def unmatched(world, import_text):
    import_text(registry([line("99999999", "70.00", op="U1")]))
    return Payment.objects.get(natural_key="U1")


def test_it_marks_the_payment_returned(world, staff, unmatched):
    payment = payment_return(organization=world.organization, payment_id=unmatched.pk, user=staff)
    assert payment.status == Payment.Status.RETURNED and payment.matched_by == staff
    assert not LedgerEntry.objects.filter(kind="payment", source_id=unmatched.pk).exists()


def test_it_cannot_match_a_returned_payment_or_return_twice(world, accounts, staff, unmatched):
    payment_return(organization=world.organization, payment_id=unmatched.pk, user=staff)
    with pytest.raises(PaymentError):
        payment_return(organization=world.organization, payment_id=unmatched.pk, user=staff)
    with pytest.raises(PaymentError):
        payment_match(
            organization=world.organization,
            payment_id=unmatched.pk,
            account=accounts[0],
            user=staff,
        )
    assert not LedgerEntry.objects.filter(kind="payment", source_id=unmatched.pk).exists()
