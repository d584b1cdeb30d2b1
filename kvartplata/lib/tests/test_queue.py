import pytest
from django.db import transaction

from kvartplata.lib.queue import enqueue_on_commit

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_queues_only_after_the_commit():
    calls = []
    with transaction.atomic():
        enqueue_on_commit(calls.append, 7)
        assert calls == []
    assert calls == [7]


def test_it_queues_nothing_when_the_transaction_rolls_back():
    calls = []
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(calls.append, 7)
        raise RuntimeError
    assert calls == []


def test_it_queues_at_once_outside_a_transaction():
    calls = []
    enqueue_on_commit(lambda *args, **kwargs: calls.append((args, kwargs)), 1, kind="x")
    assert calls == [((1,), {"kind": "x"})]
