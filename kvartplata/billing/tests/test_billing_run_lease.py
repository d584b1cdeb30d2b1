"""A billing run holds a lease: a run whose worker died does not block the month for good."""

import datetime

import pytest
from django.utils import timezone

from kvartplata.billing.models import BillingRun, Charge
from kvartplata.billing.services import (
    BillingError,
    billing_run_execute,
    billing_run_start,
    billing_runs_reap,
    period_close,
)
from kvartplata.billing.tasks import run_billing_after
from kvartplata.billing.tests import factories as f
from kvartplata.lib import leases
from kvartplata.registry.models import Period

MARCH = datetime.date(2026, 3, 1)
pytestmark = pytest.mark.django_db


def _dead_run(org, *, seconds_ago: int) -> BillingRun:
    """A run a worker claimed and then died holding (its lease ran out `seconds_ago`)."""
    run = billing_run_start(organization=org)
    past = timezone.now() - datetime.timedelta(seconds=60 + seconds_ago)
    assert leases.claim(BillingRun, run.pk, owner="dead:1", seconds=60, now=past, status="running")
    return run


def test_it_starts_a_new_run_once_the_dead_run_lease_ran_out():
    org, _, _ = f.area_world(MARCH)
    dead = _dead_run(org, seconds_ago=1)
    run = billing_run_start(organization=org)
    dead.refresh_from_db()
    assert dead.status == BillingRun.Status.FAILED
    assert dead.error.startswith("Обработчик начисления остановился")
    assert billing_run_execute(run_id=run.pk).status == BillingRun.Status.DONE
    assert Period.objects.get(organization=org).state == Period.State.BILLED


def test_it_still_refuses_while_the_lease_is_alive():
    org, _, _ = f.area_world(MARCH)
    run = billing_run_start(organization=org)
    assert leases.claim(BillingRun, run.pk, owner="alive:1", seconds=60, status="running")
    with pytest.raises(BillingError, match="уже выполняется"):
        billing_run_start(organization=org)
    assert billing_runs_reap() == []


def test_it_lets_the_month_close_after_a_dead_run():
    org, _, _ = f.area_world(MARCH)
    billing_run_execute(run_id=billing_run_start(organization=org).pk)
    _dead_run(org, seconds_ago=1)
    period_close(organization=org, open_next=False)
    assert Period.objects.get(organization=org, month=MARCH).state == Period.State.CLOSED


def test_it_holds_a_lease_while_running_and_releases_it_when_done():
    org, _, _ = f.area_world(MARCH)
    run = billing_run_start(organization=org)
    seen = []

    def progress(done, total):
        seen.append(BillingRun.objects.values_list("status", "lease_owner").get(pk=run.pk))

    run = billing_run_execute(run_id=run.pk, progress=progress)
    assert seen and all(status == "running" and owner for status, owner in seen)
    assert (run.status, run.lease_owner, run.lease_expires_at) == ("done", "", None)
    assert run.accounts_done == run.accounts_total > 0


def test_it_does_not_commit_a_run_taken_from_it(monkeypatch):
    """A worker that was only slow finds its run taken over: it rolls back, writes nothing."""
    org, _, _ = f.area_world(MARCH)
    run = billing_run_start(organization=org)
    original = leases.hold

    def taken(model, pk, *, owner):
        BillingRun.objects.filter(pk=pk).update(lease_owner="someone-else")
        return original(model, pk, owner=owner)

    monkeypatch.setattr(leases, "hold", taken)
    with pytest.raises(BillingError, match="передали другому обработчику"):
        billing_run_execute(run_id=run.pk)
    assert Period.objects.get(organization=org).state == Period.State.OPEN
    assert not Charge.objects.exists()


def test_it_lets_staff_start_the_billing_again_from_the_back_office_after_a_dead_run(
    client, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from kvartplata.users.models import User

    org, _, _ = f.area_world(MARCH)
    period = org.periods.get()
    staff = User.objects.create_user("op", "op@example.com", "x", is_staff=True, organization=org)
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    run = billing_run_start(organization=org)
    assert leases.claim(BillingRun, run.pk, owner="alive:1", seconds=60, status="running")

    def start():
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                reverse("admin:registry_period_changelist"),
                {"action": "run_billing", "_selected_action": [period.id]},
                follow=True,
            ).content.decode()

    assert "Начисление уже выполняется" in start()
    # the worker dies: its lease runs out
    BillingRun.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now())
    assert "поставлено в очередь" in start()
    run.refresh_from_db()
    assert run.status == BillingRun.Status.FAILED
    assert BillingRun.objects.filter(status=BillingRun.Status.DONE).count() == 1
    assert Period.objects.get(pk=period.pk).state == Period.State.BILLED


def test_it_fails_a_run_lost_in_the_queue_after_an_hour_and_queues_a_waiting_one_again(
    settings, django_capture_on_commit_callbacks
):
    org, _, _ = f.area_world(MARCH)
    waiting = billing_run_start(organization=org)
    # Pressed again while it waits: refused, and its task queued once more (it may be lost).
    with pytest.raises(BillingError, match="уже выполняется") as refused:
        billing_run_start(organization=org)
    assert refused.value.waiting_run_id == waiting.pk
    with django_capture_on_commit_callbacks(execute=True):
        run_billing_after(refused.value)
    waiting.refresh_from_db()
    assert waiting.status == BillingRun.Status.DONE  # the inline test queue ran it

    lost = billing_run_start(organization=org)
    created = BillingRun.objects.get(pk=lost.pk).created_at
    settings.JOB_QUEUED_SECONDS = 3600
    assert billing_runs_reap(now=created + datetime.timedelta(seconds=3599)) == []
    assert billing_runs_reap(now=created + datetime.timedelta(seconds=3601)) == [lost.pk]
    lost.refresh_from_db()
    assert lost.status == BillingRun.Status.FAILED
    assert lost.error.startswith("Начисление не взято из очереди задач")
    # a task that turns up after all finds it no longer queued
    assert billing_run_execute(run_id=lost.pk).status == BillingRun.Status.FAILED
