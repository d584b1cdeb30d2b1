"""Leases of claimed jobs: one holder at a time, renewal, release, take-over after expiry."""

import datetime
import time

import pytest
from django.db import transaction
from django.db.models import Q

from kvartplata.billing.models import BillingRun
from kvartplata.billing.tests import factories as f
from kvartplata.lib import leases

pytestmark = pytest.mark.django_db
T0 = datetime.datetime(2026, 3, 20, 10, 0, tzinfo=datetime.UTC)


def _run() -> BillingRun:
    org, _, _ = f.area_world()
    return BillingRun.objects.create(organization=org, period=org.periods.get())


def test_it_lets_one_owner_claim_a_free_job():
    run = _run()
    assert leases.claim(BillingRun, run.pk, owner="a", seconds=30, now=T0, status="running")
    assert not leases.claim(BillingRun, run.pk, owner="b", seconds=30, now=T0)
    run.refresh_from_db()
    assert (run.lease_owner, run.status) == ("a", "running")
    # 10:00:00 + 30 s
    assert run.lease_expires_at == datetime.datetime(2026, 3, 20, 10, 0, 30, tzinfo=datetime.UTC)


def test_it_claims_only_rows_matching_the_filter():
    run = _run()
    assert not leases.claim(BillingRun, run.pk, owner="a", now=T0, filters=Q(status="running"))
    assert leases.claim(BillingRun, run.pk, owner="a", now=T0, filters=Q(status="queued"))


def test_it_renews_only_for_the_holder_and_extends_the_lease():
    run = _run()
    leases.claim(BillingRun, run.pk, owner="a", seconds=30, now=T0)
    later = T0 + datetime.timedelta(seconds=20)
    assert not leases.renew(BillingRun, run.pk, owner="b", seconds=30, now=later)
    assert leases.renew(BillingRun, run.pk, owner="a", seconds=30, now=later, accounts_done=7)
    run.refresh_from_db()
    # 10:00:20 + 30 s; the progress column travels with the renewal
    assert run.lease_expires_at == datetime.datetime(2026, 3, 20, 10, 0, 50, tzinfo=datetime.UTC)
    assert run.accounts_done == 7
    # still held at 10:00:45, where the first lease would have run out
    assert not leases.expired(BillingRun, now=T0 + datetime.timedelta(seconds=45)).exists()


def test_it_hands_an_expired_job_to_another_owner_once():
    run = _run()
    leases.claim(BillingRun, run.pk, owner="dead", seconds=30, now=T0)
    early = T0 + datetime.timedelta(seconds=29)
    assert not leases.take_over(BillingRun, run.pk, owner="b", now=early)
    late = T0 + datetime.timedelta(seconds=30)
    assert list(leases.expired(BillingRun, now=late).values_list("pk", flat=True)) == [run.pk]
    assert leases.take_over(BillingRun, run.pk, owner="b", seconds=30, now=late)
    assert not leases.take_over(BillingRun, run.pk, owner="c", seconds=30, now=late)
    # the dead owner can neither renew nor release what is no longer his
    assert not leases.renew(BillingRun, run.pk, owner="dead", now=late)
    assert not leases.release(BillingRun, run.pk, owner="dead", status="done")
    run.refresh_from_db()
    assert (run.lease_owner, run.status) == ("b", "queued")


def test_it_releases_with_the_outcome():
    run = _run()
    leases.claim(BillingRun, run.pk, owner="a", now=T0)
    assert leases.release(BillingRun, run.pk, owner="a", status="done")
    run.refresh_from_db()
    assert (run.lease_owner, run.lease_expires_at, run.status) == ("", None, "done")
    assert leases.claim(BillingRun, run.pk, owner="b", now=T0)


def test_it_fails_only_expired_jobs_with_the_reason():
    expired_run = _run()
    leases.claim(BillingRun, expired_run.pk, owner="dead", seconds=10, now=T0)
    fresh = BillingRun.objects.create(
        organization=f.organization(), period=expired_run.period, status="done"
    )
    leases.claim(BillingRun, fresh.pk, owner="alive", seconds=60, now=T0)
    late = T0 + datetime.timedelta(seconds=11)
    released = leases.fail_expired(BillingRun, now=late, status="failed", error="умер")
    assert released == [expired_run.pk]
    expired_run.refresh_from_db()
    fresh.refresh_from_db()
    assert (expired_run.status, expired_run.error) == ("failed", "умер")
    assert expired_run.lease_owner == ""
    assert fresh.lease_owner == "alive"


def test_it_tells_in_the_transaction_whether_the_owner_still_holds_the_job():
    run = _run()
    leases.claim(BillingRun, run.pk, owner="a", now=T0)
    with transaction.atomic():
        assert leases.hold(BillingRun, run.pk, owner="a")
        assert not leases.hold(BillingRun, run.pk, owner="b")


@pytest.mark.django_db(transaction=True)
def test_it_renews_through_the_heartbeat_with_progress():
    run = _run()
    leases.claim(BillingRun, run.pk, owner="a", seconds=1)
    first = BillingRun.objects.get(pk=run.pk).lease_expires_at
    with leases.Heartbeat(BillingRun, run.pk, owner="a", seconds=0.3) as heartbeat:
        heartbeat.beat(accounts_done=3, accounts_total=9)
        time.sleep(0.4)
        heartbeat.beat(accounts_done=4)
        time.sleep(0.4)
    assert not heartbeat.lost
    run.refresh_from_db()
    # renewed (0.3 s after a later moment than the first lease of 1 s, so not equal) with progress
    assert run.lease_expires_at != first
    assert (run.accounts_done, run.accounts_total) == (4, 9)


@pytest.mark.django_db(transaction=True)
def test_it_writes_new_progress_within_a_second_under_a_long_lease():
    run = _run()
    leases.claim(BillingRun, run.pk, owner="a", seconds=60)
    with leases.Heartbeat(BillingRun, run.pk, owner="a", seconds=60) as heartbeat:
        heartbeat.beat(accounts_done=5, accounts_total=10)
        time.sleep(leases.PROGRESS_SECONDS + 0.5)
        seen = BillingRun.objects.values_list("accounts_done", "accounts_total").get(pk=run.pk)
    assert seen == (5, 10)
