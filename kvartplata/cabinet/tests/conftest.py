"""Fixtures of the cabinet tests: the demo world (real engine), its resident, an outsider."""

import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model

from kvartplata.demo.world import build
from kvartplata.users.models import AccountLink
from kvartplata.users.services import user_create

TODAY = datetime.date(2026, 11, 25)
MSK = datetime.timezone(datetime.timedelta(hours=3))


@pytest.fixture
def frozen():
    """Pages compare «now» with due dates: keep it the world's today."""
    with time_machine.travel(datetime.datetime(2026, 11, 25, 12, 0, tzinfo=MSK), tick=False):
        yield TODAY


def _world(months: int):
    return build(accounts=20, months=months, today=TODAY)


@pytest.fixture
def world(db, frozen):
    return _world(4)


@pytest.fixture
def world12(db, frozen):
    return _world(12)


@pytest.fixture
def demo_user(world):
    return get_user_model().objects.get(username="demo")


@pytest.fixture
def demo_client(client, demo_user):
    client.force_login(demo_user)
    return client


@pytest.fixture
def outsider(world):
    """Another resident with an account of their own (not the demo user's)."""
    user = user_create(
        username="sosed", email="sosed@example.ru", password="Kvart-plata-2025", email_verified=True
    )
    AccountLink.objects.create(user=user, account=world.spare_account)
    return user
