"""Readings files on the task queue: a lease, progress, the report, lines written set-based."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kvartplata.lib import leases
from kvartplata.meters import imports
from kvartplata.meters.imports import (
    readings_file_import,
    readings_file_upload,
    readings_files_reap,
)
from kvartplata.meters.models import Reading, ReadingsFile

pytestmark = pytest.mark.usefixtures("in_window")
NOV = datetime.date(2026, 11, 1)
HEADER = "account;serial_number;month;value1;value2;value3;confirm\n"


def upload(world, text: str) -> ReadingsFile:
    return readings_file_upload(
        organization=world.organization,
        name="r.csv",
        content=text.encode(),
        user=world.staff,
    )


def test_it_loads_a_queued_file_and_keeps_the_report_on_its_row(world):
    queued = upload(
        world,
        HEADER
        + "1000015;CW-1;2026-11;135,5;;;\n1000015;HW-1;2026-11;1;;;\n1000015;XX;2026-11;1;;;\n",
    )
    assert queued.status == ReadingsFile.Status.QUEUED
    done = readings_file_import(readings_file_id=queued.pk)
    assert done.status == ReadingsFile.Status.DONE
    assert (done.lines_total, done.lines_done, done.lines_accepted, done.lines_refused) == (
        3,
        3,
        1,
        2,
    )
    assert [(r["line"], r["accepted"]) for r in done.report] == [(3, False), (4, False)]
    assert "Показания меньше предыдущих" in done.report[0]["message"]
    assert (done.lease_owner, done.lease_expires_at) == ("", None)
    reading = Reading.objects.get(meter=world.cold, month=NOV, is_accepted=True)
    assert (reading.value1, reading.source, reading.submitted_by) == (
        Decimal("135.500"),
        Reading.Source.IMPORT,
        world.staff,
    )


def test_it_loads_a_file_once(world):
    queued = upload(world, HEADER + "1000015;CW-1;2026-11;135;;;\n")
    readings_file_import(readings_file_id=queued.pk)
    again = readings_file_import(readings_file_id=queued.pk)
    assert again.status == ReadingsFile.Status.DONE
    assert Reading.objects.filter(meter=world.cold, month=NOV).count() == 1


def test_it_refuses_a_file_without_the_needed_columns_with_the_reason(world):
    done = readings_file_import(readings_file_id=upload(world, "a;b\n1;2\n").pk)
    assert done.status == ReadingsFile.Status.REFUSED
    assert done.error.startswith("В заголовке нет столбцов")


def test_it_writes_the_lines_set_based(world):
    """The queries do not grow with the lines: 3 lines and 60 lines cost the same."""

    def queries(lines: int) -> int:
        Reading.objects.filter(month=NOV).delete()
        text = HEADER + "".join(f"1000015;CW-1;2026-11;{131 + i % 3};;;\n" for i in range(lines))
        with CaptureQueriesContext(connection) as captured:
            report = imports.readings_import(
                organization=world.organization,
                content=text.encode(),
                user=world.staff,
                today=timezone.localdate(),
            )
        assert len(report.accepted) == lines
        return len(captured)

    assert queries(3) == queries(60)


def test_it_keeps_the_last_line_of_a_meter_and_month_and_the_earlier_on_record(world):
    readings_file_import(
        readings_file_id=upload(
            world, HEADER + "1000015;CW-1;2026-11;131;;;\n1000015;CW-1;2026-11;133;;;\n"
        ).pk
    )
    rows = Reading.objects.filter(meter=world.cold, month=NOV).order_by("value1")
    assert [(r.value1, r.is_accepted) for r in rows] == [
        (Decimal("131.000"), False),
        (Decimal("133.000"), True),
    ]


def test_it_checks_a_line_against_the_earlier_lines_of_the_file(world):
    report = imports.readings_import(
        organization=world.organization,
        content=(HEADER + "1000015;CW-1;2026-11;133;;;\n1000015;CW-1;2026-12;132;;;\n").encode(),
        user=world.staff,
        today=timezone.localdate(),
    )
    assert [r.line for r in report.accepted] == [2]
    assert "Показания меньше предыдущих (133 м³ за ноябрь 2026)" in report.refused[0].message


def test_it_stores_nothing_when_writing_fails(world, monkeypatch):
    before = list(Reading.objects.values_list("pk", "is_accepted").order_by("pk"))

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(imports, "bulk_insert", broken)
    done = readings_file_import(
        readings_file_id=upload(world, HEADER + "1000015;CW-1;2026-11;135;;;\n").pk
    )
    assert done.status == ReadingsFile.Status.REFUSED
    assert "ничего не загружено" in done.error
    assert list(Reading.objects.values_list("pk", "is_accepted").order_by("pk")) == before


def test_it_reports_progress_through_the_lease(world, monkeypatch):
    seen = []
    original = leases.Heartbeat.beat

    def beat(self, **values):
        seen.append(values)
        return original(self, **values)

    monkeypatch.setattr(leases.Heartbeat, "beat", beat)
    text = HEADER + "".join(f"1000015;XX-{i};2026-11;1;;;\n" for i in range(100))
    readings_file_import(readings_file_id=upload(world, text).pk)
    # every 2 % of 100 lines, the last one included
    assert seen[0] == {"lines_done": 2, "lines_total": 100}
    assert seen[-1] == {"lines_done": 100, "lines_total": 100}
    assert len(seen) == 50


def test_it_refuses_a_file_whose_worker_died_once_its_lease_ran_out(world):
    dead = upload(world, HEADER + "1000015;CW-1;2026-11;135;;;\n")
    alive = upload(world, HEADER + "1000015;CW-1;2026-11;135;;;\n")
    now = timezone.now()
    for f, seconds in ((dead, 10), (alive, 120)):
        assert leases.claim(
            ReadingsFile, f.pk, owner=f"w{f.pk}", seconds=seconds, now=now, status="processing"
        )
    assert readings_files_reap(now=now + datetime.timedelta(seconds=11)) == [dead.pk]
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == ReadingsFile.Status.REFUSED
    assert "Загрузка прервана: обработчик остановился" in dead.error
    assert alive.status == ReadingsFile.Status.PROCESSING
    # staff upload it again: loaded
    again = readings_file_import(
        readings_file_id=upload(world, HEADER + "1000015;CW-1;2026-11;135;;;\n").pk
    )
    assert again.status == ReadingsFile.Status.DONE


def test_it_replaces_an_accepted_reading_of_the_month_and_keeps_it_on_record(world):
    from kvartplata.meters.tests.conftest import add_reading

    earlier = add_reading(world.cold, NOV, 132)
    untouched = add_reading(world.hot, NOV, 60)
    readings_file_import(
        readings_file_id=upload(world, HEADER + "1000015;CW-1;2026-11;134;;;\n").pk
    )
    earlier.refresh_from_db()
    untouched.refresh_from_db()
    assert not earlier.is_accepted
    assert untouched.is_accepted
    assert Reading.objects.get(meter=world.cold, month=NOV, is_accepted=True).value1 == 134


def test_it_refuses_a_file_lost_in_the_queue_after_an_hour(world, settings):
    settings.JOB_QUEUED_SECONDS = 3600
    queued = upload(world, HEADER + "1000015;CW-1;2026-11;135;;;\n")
    uploaded = ReadingsFile.objects.get(pk=queued.pk).uploaded_at
    assert readings_files_reap(now=uploaded + datetime.timedelta(seconds=3599)) == []
    assert readings_files_reap(now=uploaded + datetime.timedelta(seconds=3601)) == [queued.pk]
    assert readings_file_import(readings_file_id=queued.pk).status == ReadingsFile.Status.REFUSED
    assert not Reading.objects.filter(meter=world.cold, month=NOV).exists()
