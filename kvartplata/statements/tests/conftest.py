"""Fixtures of the statement tests: the demo world of four closed months (real engine)."""

import datetime

import pytest
import time_machine

from kvartplata.demo.world import build

TODAY = datetime.date(2026, 11, 25)
MSK = datetime.timezone(datetime.timedelta(hours=3))


@pytest.fixture
def world(db):
    with time_machine.travel(datetime.datetime(2026, 11, 25, 12, 0, tzinfo=MSK), tick=False):
        yield build(accounts=20, months=4, today=TODAY)
