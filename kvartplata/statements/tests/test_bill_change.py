"""«Почему изменилась сумма?» as the resident reads it: what the month's receipt froze (#19)."""

import dataclasses
import datetime

from kvartplata.backoffice.closing import period_close_with_receipts
from kvartplata.billing.bill_change import explanation
from kvartplata.billing.models import Service
from kvartplata.billing.services import billing_run
from kvartplata.meters.models import Meter
from kvartplata.receipts.models import Receipt
from kvartplata.statements import selectors


def _issued(world):
    periods = selectors.organization_periods(world.organization.id)
    return periods, selectors.last_issued_of(periods)


def test_it_reads_the_explanation_the_receipt_froze_in_one_query(world, django_assert_num_queries):
    periods, last = _issued(world)
    account_id = world.resident_account.id
    computed = explanation(account_id, periods, last)
    assert computed is not None and computed.services
    with django_assert_num_queries(1):
        read = selectors.bill_change(account_id, periods, last)
    # The same explanation, without the causes' raw parts (the snapshot keeps the words).
    assert read == dataclasses.replace(computed, difference=None)


def test_it_keeps_what_was_issued_when_the_facts_are_corrected_afterwards(world):
    periods, last = _issued(world)
    account_id = world.resident_account.id
    issued = selectors.bill_change(account_id, periods, last)
    # Facts corrected after the close: a meter's verification date (it had already expired)
    # and the services' names. Computed today, the explanation would read otherwise; the
    # resident reads what was issued.
    Meter.objects.filter(account_id=account_id).update(
        next_verification_on=datetime.date(2026, 1, 10)
    )
    Service.objects.filter(organization=world.organization).update(name="Новое имя")
    assert dataclasses.replace(explanation(account_id, periods, last), difference=None) != issued
    assert selectors.bill_change(account_id, periods, last) == issued


def test_it_explains_a_month_closed_without_receipts_by_the_same_rule(world):
    # November billed and closed without receipts (as the demo closes a large world's older
    # months): nothing was frozen, so the explanation is computed from the stored facts.
    billing_run(organization=world.organization)
    period_close_with_receipts(organization=world.organization, issue_receipts=False)
    periods, last = _issued(world)
    account_id = world.resident_account.id
    assert last.month == datetime.date(2026, 11, 1)
    assert not Receipt.objects.filter(period=last).exists()
    assert selectors.bill_change(account_id, periods, last) == explanation(
        account_id, periods, last
    )


def test_it_explains_nothing_for_a_month_not_issued(world):
    periods = selectors.organization_periods(world.organization.id)
    current = selectors.current_of(periods)
    assert selectors.bill_change(world.resident_account.id, periods, current) is None
