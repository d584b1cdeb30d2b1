"""Bulk inserts keep what the ORM would store: exact decimals, UTC datetimes, JSON."""

import datetime
from decimal import Decimal

import pytest

from kvartplata.billing.models import KeyRate
from kvartplata.billing.tests import factories as f
from kvartplata.lib.db import Select, bulk_insert, from_kopecks
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


def test_a_select_reads_what_the_orm_reads():
    org = f.organization()
    bld = f.building(org)
    acc = f.account(org, bld, "1", area="50")
    meter = f.meter(account=acc)
    Reading.objects.create(
        meter=meter,
        month=datetime.date(2026, 3, 1),
        value1=Decimal("0.1"),
        source="resident",
        submitted_at=datetime.datetime(2026, 3, 20, 19, 30, 15, 123456, tzinfo=MSK),
    )
    Reading.objects.create(
        meter=meter,
        month=datetime.date(2026, 4, 1),
        value1=Decimal("1234.567"),
        source="resident",
        submitted_at=datetime.datetime(2026, 4, 20, 9, 0, tzinfo=MSK),
    )
    select = Select.of(Reading, "meter_id IN ({meters})", "month")
    by_orm = list(Reading.objects.filter(meter=meter).order_by("month"))
    by_select = select.instances([meter.id], meters=1)
    fields = [f.attname for f in Reading._meta.concrete_fields]
    assert [[getattr(r, n) for n in fields] for r in by_select] == [
        [getattr(r, n) for n in fields] for r in by_orm
    ]
    # Typed as the fields say, not as the database returns them (SQLite: floats, text dates).
    assert type(by_select[0].value1) is Decimal and by_select[0].value1 == Decimal("0.1")
    assert type(by_select[1].month) is datetime.date


def test_a_joined_select_builds_one_instance_per_model():
    org = f.organization()
    bld = f.building(org)
    acc = f.account(org, bld, "7", area="42.5")
    select = Select.joined(
        [(Meter, "m"), (type(acc), "a")],
        "FROM meters_meter m JOIN registry_personalaccount a ON a.id = m.account_id"
        " WHERE m.account_id = %s",
    )
    meter = f.meter(account=acc)
    [(got_meter, got_account)] = select.instances_joined([acc.id])
    assert (got_meter.pk, got_meter.serial_number) == (meter.pk, meter.serial_number)
    assert (got_account.pk, got_account.number) == (acc.pk, acc.number)


def test_a_select_with_no_rows_returns_an_empty_list():
    select = Select("SELECT id FROM meters_meter WHERE id IN ({ids})", [None])
    assert select.rows([-1, -2], ids=2) == []
