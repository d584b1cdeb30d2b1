"""The monthly cycle: open, run, recalculate, close — and what it refuses."""

import datetime
from decimal import Decimal

import pytest

from kvartplata.billing.models import AccountBalance, BillingRun, Recalculation
from kvartplata.billing.services import (
    BillingError,
    billing_run,
    billing_run_execute,
    billing_run_start,
    period_close,
    period_open,
    recalculation_add,
)
from kvartplata.billing.tasks import run_billing
from kvartplata.billing.tests import factories as f
from kvartplata.lib.queue import enqueue_on_commit
from kvartplata.registry.models import Period

MARCH = datetime.date(2026, 3, 1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    org, acc, svc = f.area_world(MARCH)
    return org, acc, svc


def test_it_refuses_a_second_run_while_one_is_active(world):
    org, _, _ = world
    billing_run_start(organization=org)
    with pytest.raises(BillingError, match="уже выполняется"):
        billing_run_start(organization=org)
    assert BillingRun.objects.count() == 1


def test_it_runs_through_the_task_queue(world, django_capture_on_commit_callbacks):
    org, acc, _ = world
    with django_capture_on_commit_callbacks(execute=True):
        run = billing_run_start(organization=org)
        enqueue_on_commit(run_billing, run.id)  # tests run huey tasks at once
    run.refresh_from_db()
    assert run.status == BillingRun.Status.DONE
    assert run.lines == 1
    assert (run.accounts_total, run.accounts_done) == (1, 1)  # accounts, not passes
    assert AccountBalance.objects.get(account=acc).charges == Decimal("1500.00")


def test_it_refuses_to_close_an_unbilled_period(world):
    org, _, _ = world
    with pytest.raises(BillingError, match="начисление"):
        period_close(organization=org)


def test_it_closes_and_opens_the_next_month(world):
    org, acc, _ = world
    billing_run(organization=org)
    closed = period_close(organization=org)
    assert closed.state == Period.State.CLOSED
    following = Period.objects.get(organization=org, state="open")
    assert following.month == datetime.date(2026, 4, 1)
    assert following.due_date == datetime.date(2026, 5, 15)
    billing_run(organization=org)
    april = AccountBalance.objects.get(account=acc, month=following.month)
    assert (april.opening, april.closing) == (Decimal("1500.00"), Decimal("3000.00"))


def test_it_refuses_to_open_a_second_period(world):
    org, _, _ = world
    with pytest.raises(BillingError, match="открытый период"):
        period_open(organization=org, month=datetime.date(2026, 4, 1))


def test_it_books_a_staff_recalculation_with_its_month(world):
    org, acc, svc = world
    billing_run(organization=org)
    recalculation_add(
        account=acc,
        concerns_month=datetime.date(2026, 1, 1),
        amount=Decimal("-120.505"),
        reason="Отсутствие отопления 3 дня",
        service=svc,
    )
    balance = AccountBalance.objects.get(account=acc)
    assert balance.recalculations == Decimal("-120.51")  # half-up to kopecks
    assert balance.closing == Decimal("1379.49")


@pytest.mark.parametrize(
    ("month", "amount", "reason", "message"),
    [
        (datetime.date(2026, 5, 1), "10", "x", "текущий или прошедший"),
        (datetime.date(2026, 1, 1), "0", "x", "нулевой"),
        (datetime.date(2026, 1, 1), "10", "  ", "основание"),
    ],
)
def test_it_refuses_bad_recalculations(world, month, amount, reason, message):
    _, acc, _ = world
    with pytest.raises(BillingError, match=message):
        recalculation_add(account=acc, concerns_month=month, amount=Decimal(amount), reason=reason)


def test_it_books_a_privilege_as_a_reduction_only(world):
    org, acc, svc = world
    billing_run(organization=org)
    with pytest.raises(BillingError, match="со знаком минус"):
        recalculation_add(
            account=acc,
            concerns_month=datetime.date(2026, 1, 1),
            amount=Decimal("100"),
            reason="Льгота ветерана труда",
            source=Recalculation.Source.PRIVILEGE,
        )
    made = recalculation_add(
        account=acc,
        concerns_month=datetime.date(2026, 1, 1),
        amount=Decimal("-100"),
        reason="Льгота ветерана труда",
        service=svc,
        source=Recalculation.Source.PRIVILEGE,
    )
    assert made.source == Recalculation.Source.PRIVILEGE
    assert AccountBalance.objects.get(account=acc).recalculations == Decimal("-100.00")
    with pytest.raises(BillingError, match="вручную не проводится"):
        recalculation_add(
            account=acc,
            concerns_month=datetime.date(2026, 1, 1),
            amount=Decimal("-1"),
            reason="x",
            source=Recalculation.Source.LATE_READINGS,
        )


def test_a_finished_run_is_not_executed_again(world):
    org, _, _ = world
    run = billing_run(organization=org)
    again = billing_run_execute(run_id=run.id)
    assert again.status == BillingRun.Status.DONE


def test_it_refuses_to_close_when_readings_came_after_the_run():
    org, acc, _ = f.area_world(MARCH)
    meter = f.meter(account=acc)
    billing_run(organization=org)
    f.reading(meter, MARCH, "10")
    with pytest.raises(BillingError, match="выполните начисление заново"):
        period_close(organization=org)
    billing_run(organization=org)
    assert period_close(organization=org).state == Period.State.CLOSED
