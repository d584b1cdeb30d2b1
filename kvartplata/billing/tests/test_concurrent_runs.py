"""Two billing runs started at the same moment: the database lets one through (PostgreSQL)."""

import threading

import pytest
from django.db import connection, connections

from kvartplata.billing.models import BillingRun
from kvartplata.billing.services import BillingError, billing_run_start
from kvartplata.billing.tests import factories as f

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_it_refuses_the_second_of_two_simultaneous_runs():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent writers on one in-memory SQLite are not real")
    org, _, _ = f.area_world()
    barrier = threading.Barrier(2)
    outcomes = []

    def start():
        try:
            barrier.wait()
            billing_run_start(organization=org)
            outcomes.append("started")
        except BillingError as exc:
            outcomes.append(str(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(outcomes) == {"started", "Начисление уже выполняется: дождитесь его окончания."}
    assert BillingRun.objects.count() == 1
