"""The month page: readings, run (and rerun), review against the previous month, close."""

import datetime
import logging
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse

from kvartplata.backoffice import month as month_data
from kvartplata.billing.models import BillingRun, LedgerEntry
from kvartplata.demo.world import build
from kvartplata.meters.models import Reading
from kvartplata.registry.models import Organization, Period

MSK = datetime.timezone(datetime.timedelta(hours=3))
NOVEMBER = datetime.date(2026, 11, 1)
ZERO = Decimal("0.00")


@pytest.fixture
def world(db):
    with time_machine.travel(datetime.datetime(2026, 11, 25, 12, 0, tzinfo=MSK), tick=False):
        yield build(accounts=20, months=4, today=datetime.date(2026, 11, 25))


@pytest.fixture
def office(client, world):
    client.force_login(get_user_model().objects.get(username="operator"))
    return client


def _november(world):
    return Period.objects.get(organization=world.organization, month=NOVEMBER)


def _run(office, period, django_capture_on_commit_callbacks, seen=""):
    with django_capture_on_commit_callbacks(execute=True):
        return office.post(reverse("office_month:run", args=[period.id]), {"seen_run": seen})


def test_it_shows_the_open_month_with_its_readings(office, world, django_assert_max_num_queries):
    period = _november(world)
    with django_assert_max_num_queries(25):
        response = office.get(reverse("office_month:current"))
    assert response.status_code == 200
    assert response.context["period"] == period
    readings = response.context["readings"]
    sent = (
        Reading.objects.filter(
            month=NOVEMBER, is_accepted=True, meter__account__organization=world.organization
        )
        .values("meter__account_id")
        .distinct()
        .count()
    )
    assert (
        readings.metered
        == world.organization.accounts.filter(meters__isnull=False).distinct().count()
    )
    assert readings.sent == sent > 0
    html = response.content.decode()
    assert f"передали показания: {readings.sent}" in html
    assert "ещё не выполнялось" in html
    assert response.context["review"] is None


def test_it_runs_once_per_click_and_reviews(
    office, world, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    period = _november(world)
    response = _run(office, period, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    period.refresh_from_db()
    assert period.state == Period.State.BILLED
    first = BillingRun.objects.get(period=period)
    # The same page posted again (a double click): nothing starts twice.
    _run(office, period, django_capture_on_commit_callbacks)
    assert BillingRun.objects.filter(period=period).count() == 1
    # A rerun from the page that shows the first run does start.
    _run(office, period, django_capture_on_commit_callbacks, seen=str(first.id))
    assert BillingRun.objects.filter(period=period).count() == 2

    with django_assert_max_num_queries(30):
        response = office.get(reverse("office_month:period", args=[period.id]))
    review = response.context["review"]
    billed = sum(
        LedgerEntry.objects.filter(
            period=period, kind__in=["charge", "correction", "recalculation"]
        ).values_list("amount", flat=True),
        ZERO,
    )
    assert review.totals["current"] == billed
    assert sum((p.current for p in review.providers), ZERO) == billed
    october = Period.objects.get(organization=world.organization, month=datetime.date(2026, 10, 1))
    assert review.totals["previous"] == sum(
        LedgerEntry.objects.filter(
            period=october, kind__in=["charge", "correction", "recalculation"]
        ).values_list("amount", flat=True),
        ZERO,
    )
    html = response.content.decode()
    assert 'data-testid="by-service"' in html
    assert "Выполнить начисление заново" in html


def test_it_lists_accounts_that_changed_more_than_the_share(office, world):
    from kvartplata.billing.services import billing_run, recalculation_add

    account = world.organization.accounts.order_by("number").first()
    recalculation_add(
        account=account,
        concerns_month=datetime.date(2026, 10, 1),
        amount=Decimal("50000.00"),
        reason="Доначисление по акту",
    )
    billing_run(organization=world.organization)
    review = month_data.review(_november(world), share=Decimal("30"))
    assert account.id in [line.account.id for line in review.changed]
    for line in review.changed:
        assert abs(line.current - line.previous) * 100 > 30 * line.previous


def test_closing_asks_for_confirmation_and_a_reason_before_the_window_ends(
    office, world, caplog, django_capture_on_commit_callbacks
):
    period = _november(world)
    _run(office, period, django_capture_on_commit_callbacks)
    url = reverse("office_month:close", args=[period.id])
    page = office.get(url)
    assert page.status_code == 200
    figures = page.context["figures"]
    assert figures.accounts == world.organization.accounts.count()
    assert "Приём показаний идёт до 25.11.2026" in page.content.decode()

    response = office.post(url, {"reason": ""})
    assert response.status_code == 400
    assert "Подтвердите закрытие" in response.content.decode()
    response = office.post(url, {"confirm": "yes", "reason": "  "})
    assert response.status_code == 400
    assert "только указав причину" in response.content.decode()
    period.refresh_from_db()
    assert period.state == Period.State.BILLED

    with caplog.at_level(logging.INFO, logger="kvartplata.audit"):
        response = office.post(url, {"confirm": "yes", "reason": "Показания все получены"})
    assert response.status_code == 302
    period.refresh_from_db()
    assert period.state == Period.State.CLOSED
    assert any(
        "event=period_closed" in r.getMessage() and "Показания все получены" in r.getMessage()
        for r in caplog.records
    )
    # A second click on the same form closes nothing more.
    again = office.post(url, {"confirm": "yes", "reason": "ещё раз"})
    assert again.status_code == 302
    december = Period.objects.get(organization=world.organization, month=datetime.date(2026, 12, 1))
    assert december.state == Period.State.OPEN


def test_after_the_window_it_closes_without_a_reason(
    office, world, django_capture_on_commit_callbacks
):
    period = _november(world)
    _run(office, period, django_capture_on_commit_callbacks)
    with time_machine.travel(datetime.datetime(2026, 11, 27, 10, 0, tzinfo=MSK), tick=False):
        office.force_login(get_user_model().objects.get(username="operator"))  # a new day
        response = office.post(reverse("office_month:close", args=[period.id]), {"confirm": "yes"})
    assert response.status_code == 302
    period.refresh_from_db()
    assert period.state == Period.State.CLOSED


def test_an_unbilled_month_cannot_be_closed(office, world):
    period = _november(world)
    response = office.post(
        reverse("office_month:close", args=[period.id]), {"confirm": "yes", "reason": "надо"}
    )
    assert response.status_code == 400
    period.refresh_from_db()
    assert period.state == Period.State.OPEN


def test_staff_of_another_organization_get_404(client, world):
    other = Organization.objects.create(
        name="УК «Другая»",
        short_name="Другая",
        address="г. Город",
        inn="7701234560",
        bic="044525225",
        bank_name="Банк",
        correspondent_account="30101810400000000225",
        settlement_account="40702810200000000001",
    )
    stranger = get_user_model().objects.create_user(
        username="chuzhoy", password="x-pass-12345", is_staff=True, organization=other
    )
    stranger.groups.set(get_user_model().objects.get(username="operator").groups.all())
    client.force_login(stranger)
    period = _november(world)
    assert client.get(reverse("office_month:period", args=[period.id])).status_code == 404
    assert client.post(reverse("office_month:run", args=[period.id])).status_code == 404
    assert client.get(reverse("office_month:close", args=[period.id])).status_code == 404


def test_it_needs_the_permission_to_act(client, world):
    viewer = get_user_model().objects.create_user(
        username="smotritel",
        password="x-pass-12345",
        is_staff=True,
        organization=world.organization,
    )
    client.force_login(viewer)
    period = _november(world)
    assert client.get(reverse("office_month:period", args=[period.id])).status_code == 403
    assert client.post(reverse("office_month:run", args=[period.id])).status_code == 403
    assert not BillingRun.objects.filter(period=period).exists()
