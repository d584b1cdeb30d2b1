"""The bill change from stored facts: it adds up to the balances, in a fixed number of queries."""

import datetime

import pytest

from kvartplata.billing.bill_change import bill_change, month_facts
from kvartplata.billing.models import AccountBalance
from kvartplata.demo.world import build
from kvartplata.registry.models import Period

TODAY = datetime.date(2026, 12, 5)


@pytest.fixture
def world(db):
    return build(accounts=20, months=6, today=TODAY)


def test_it_explains_every_closed_month_of_the_demo_to_the_kopeck(world):
    periods = list(
        Period.objects.filter(organization=world.organization, state=Period.State.CLOSED).order_by(
            "month"
        )
    )
    closing = {
        (row.account_id, row.period_id): row.closing
        for row in AccountBalance.objects.filter(period__in=periods)
    }
    explained = 0
    for account_id in world.accounts:
        for previous, period in zip(periods, periods[1:], strict=False):
            difference = bill_change(account_id, period, previous)
            # What the receipts ask for: the closing balances of the two months.
            assert difference.previous.total_due == closing[(account_id, previous.id)]
            assert difference.current.total_due == closing[(account_id, period.id)]
            assert sum(p.amount for p in difference.parts) == difference.total_change
            explained += bool(difference.parts)
    assert explained > 0


def test_it_reads_two_months_in_five_queries(world, django_assert_num_queries):
    periods = list(Period.objects.filter(organization=world.organization).order_by("-month")[1:3])
    with django_assert_num_queries(5):
        facts = month_facts(world.accounts[0], periods)
    assert set(facts) == {p.id for p in periods}
    assert all(month.lines for month in facts.values())
