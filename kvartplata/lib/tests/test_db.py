"""Bulk inserts keep what the ORM would store: exact decimals, UTC datetimes, JSON."""

import datetime
from decimal import Decimal

import pytest

from kvartplata.billing.models import KeyRate
from kvartplata.billing.tests import factories as f
from kvartplata.lib.db import bulk_insert, from_kopecks
from kvartplata.meters.models import Meter, Reading

pytestmark = pytest.mark.django_db
MSK = datetime.timezone(datetime.timedelta(hours=3))


def test_it_inserts_decimals_and_aware_datetimes_as_the_orm_reads_them():
    org = f.organization()
    bld = f.building(org)
    acc = f.account(org, bld, "1", area="50")
    meter = f.meter(account=acc)
    moment = datetime.datetime(2026, 3, 20, 19, 30, tzinfo=MSK)
    count = bulk_insert(
        "meters_reading",
        [
            "meter_id",
            "month",
            "value1",
            "kind",
            "source",
            "is_accepted",
            "confirmed_high",
            "submitted_at",
        ],
        [
            (
                meter.id,
                datetime.date(2026, 3, 1),
                Decimal("123.456"),
                "regular",
                "staff",
                True,
                False,
                moment,
            )
        ],
    )
    assert count == 1
    reading = Reading.objects.get(meter=meter)
    assert reading.value1 == Decimal("123.456")
    assert reading.submitted_at == moment
    assert Reading.objects.filter(submitted_at__gte=moment).count() == 1
    assert Meter.objects.count() == 1


def test_it_counts_an_empty_insert():
    assert bulk_insert("billing_keyrate", ["valid_from", "rate", "basis"], []) == 0
    assert KeyRate.objects.count() >= 1


def test_it_turns_kopecks_back_into_roubles():
    assert from_kopecks(123456.0) == Decimal("1234.56")
    assert from_kopecks(Decimal("-5")) == Decimal("-0.05")
    assert from_kopecks(None) == Decimal("0.00")
