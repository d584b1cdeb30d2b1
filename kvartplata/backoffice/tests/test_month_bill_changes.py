"""The month page's review says why the bills changed most changed, before residents do (#19)."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from kvartplata.backoffice import month as month_data
from kvartplata.billing.bill_change import bill_change
from kvartplata.billing.calc.difference import Cause
from kvartplata.billing.models import Service, Tariff
from kvartplata.billing.services import billing_run
from kvartplata.demo.world import build
from kvartplata.lib.money import round_money
from kvartplata.registry.models import Period

MSK = datetime.timezone(datetime.timedelta(hours=3))
OCTOBER = datetime.date(2026, 10, 1)
NOVEMBER = datetime.date(2026, 11, 1)
UPKEEP = "Содержание жилого помещения"


@pytest.fixture
def world(db):
    with time_machine.travel(datetime.datetime(2026, 11, 25, 12, 0, tzinfo=MSK), tick=False):
        yield build(accounts=20, months=4, today=datetime.date(2026, 11, 25))


@pytest.fixture
def office(client, world):
    client.force_login(get_user_model().objects.get(username="operator"))
    return client


@pytest.fixture
def wrong_tariff(world):
    """An operator typed the upkeep tariff ten times too high for November, then ran the month."""
    service = Service.objects.get(organization=world.organization, name=UPKEEP)
    current = Tariff.objects.filter(service=service, valid_from__lte=NOVEMBER).first()
    Tariff.objects.create(
        service=service, zone=current.zone, valid_from=NOVEMBER, price=current.price * 10
    )
    billing_run(organization=world.organization)
    return current.price


def _periods(world):
    return (
        Period.objects.get(organization=world.organization, month=NOVEMBER),
        Period.objects.get(organization=world.organization, month=OCTOBER),
    )


def test_it_names_the_wrong_tariff_for_the_accounts_changed_most(world, wrong_tariff):
    november, october = _periods(world)
    review = month_data.review(november, share=Decimal("30"))
    assert len(review.explained) == month_data.EXPLAIN_LIMIT
    assert [line for line, _ in review.explained] == review.changed[: month_data.EXPLAIN_LIMIT]
    for line, why in review.explained:
        # The same decomposition as the resident's, summing to the change of the total due.
        expected = bill_change(line.account.id, november, october)
        assert why.difference.parts == expected.parts
        assert sum(s.amount for s in why.services) == why.change
        upkeep = next(s for s in why.services if s.name == UPKEEP)
        tariff = next(
            p for p in why.difference.parts if p.cause == Cause.TARIFF and p.service == UPKEEP
        )
        # The same area: the whole change of the line is the tariff's, area × 10 × old tariff
        # less area × old tariff, each rounded half-up to kopecks as the run rounds a line.
        area = next(line.volume for line in expected.previous.lines if line.service == UPKEEP)
        assert tariff.amount == round_money(area * 10 * wrong_tariff) - round_money(
            area * wrong_tariff
        )
        assert any(s.startswith("тариф с 1 ноября") and "+900,0 %" in s for s in upkeep.sentences)


def test_it_shows_the_causes_on_the_month_page(office, world, wrong_tariff):
    november, _ = _periods(world)
    response = office.get(reverse("office_month:period", args=[november.id]), {"share": "30"})
    assert response.status_code == 200
    html = response.content.decode()
    block = html[html.index('data-testid="bill-changes"') :]
    for line, why in response.context["review"].explained:
        assert reverse("office_desk:account", args=[line.account.id]) in block
        for service in why.services:
            for sentence in service.sentences:
                assert escape(sentence) in block


def test_it_decomposes_the_top_accounts_in_five_queries(
    world, wrong_tariff, monkeypatch, django_assert_num_queries
):
    november, _ = _periods(world)
    with CaptureQueriesContext(connection) as bare, monkeypatch.context() as patched:
        patched.setattr(month_data, "EXPLAIN_LIMIT", 0)
        assert month_data.review(november, share=Decimal("30")).explained == []
    with django_assert_num_queries(len(bare.captured_queries) + 5):
        review = month_data.review(november, share=Decimal("30"))
    assert len(review.explained) == month_data.EXPLAIN_LIMIT
