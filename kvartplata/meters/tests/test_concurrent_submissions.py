"""Two simultaneous submissions for the same meter and month on PostgreSQL: one kept, none fails."""

import threading
from datetime import date

import pytest
from django.db import connection, connections

from kvartplata.meters.models import Reading
from kvartplata.meters.services import ReadingEntry, reading_submit

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_it_keeps_one_of_two_simultaneous_submissions(world):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serializes writers by itself")
    barrier = threading.Barrier(2)
    results, errors = [], []

    def submit(value):
        try:
            barrier.wait(timeout=10)
            results.append(
                reading_submit(
                    account=world.account,
                    entries=[ReadingEntry(world.cold.pk, (value,))],
                    user=world.resident,
                    today=date(2026, 11, 20),
                )
            )
        except Exception as exc:  # noqa: BLE001 - the test reports any failure of a request
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(v,)) for v in ("135", "136")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert [r.ok for r in results] == [True, True]
    accepted = Reading.objects.filter(meter=world.cold, month=date(2026, 11, 1), is_accepted=True)
    assert accepted.count() == 1
    assert Reading.objects.filter(meter=world.cold, month=date(2026, 11, 1)).count() == 2
