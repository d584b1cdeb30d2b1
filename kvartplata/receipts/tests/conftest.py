"""Fixtures of the receipts tests: the demo world with receipts issued at every close."""

import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model

from kvartplata.demo.world import build
from kvartplata.receipts.models import Receipt
from kvartplata.users.models import AccountLink
from kvartplata.users.services import user_create

TODAY = datetime.date(2026, 11, 25)
MSK = datetime.timezone(datetime.timedelta(hours=3))
OCTOBER = datetime.date(2026, 10, 1)


@pytest.fixture
def frozen():
    with time_machine.travel(datetime.datetime(2026, 11, 25, 12, 0, tzinfo=MSK), tick=False):
        yield TODAY


@pytest.fixture
def world(db, frozen):
    """20 accounts, three closed months (August–October 2026) with receipts; November open."""
    return build(accounts=20, months=3, today=TODAY)


@pytest.fixture
def demo_user(world):
    return get_user_model().objects.get(username="demo")


@pytest.fixture
def demo_client(client, demo_user):
    client.force_login(demo_user)
    return client


@pytest.fixture
def demo_receipt(world):
    """The resident's receipt of October 2026."""
    return Receipt.objects.get(account=world.resident_account, month=OCTOBER)


@pytest.fixture
def outsider(world):
    """Another resident with an account of their own (not the demo user's)."""
    user = user_create(
        username="sosed", email="sosed@example.ru", password="Kvart-plata-2025", email_verified=True
    )
    AccountLink.objects.create(user=user, account=world.spare_account)
    return user


@pytest.fixture
def staff(world):
    return get_user_model().objects.get(username="operator")


@pytest.fixture
def huey():
    """The in-memory task queue of the tests, emptied (retries scheduled by earlier tests)."""
    from huey.contrib.djhuey import HUEY

    HUEY.storage.flush_all()
    yield HUEY
    HUEY.storage.flush_all()


@pytest.fixture
def live_world(transactional_db):
    """The demo world for browser tests (the live server sees committed data)."""
    return build(accounts=20, months=3)
