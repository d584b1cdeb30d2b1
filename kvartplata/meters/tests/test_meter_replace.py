"""Replacement and archive of meters: final and initial readings kept, consumption over both."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kvartplata.meters.models import Meter, Reading
from kvartplata.meters.selectors import meter_history_rows
from kvartplata.meters.services import ReadingEntry, meter_archive, meter_replace, reading_submit

TODAY = date(2026, 11, 20)


def replace(world, **kw):
    params = {
        "meter": world.cold,
        "replaced_on": date(2026, 11, 10),
        "final_values": ["134"],
        "serial_number": "CW-NEW",
        "initial_values": ["0,5"],
        "verified_on": date(2026, 10, 1),
        "next_verification_on": date(2032, 10, 1),
        "user": world.staff,
        "today": TODAY,
    } | kw
    return meter_replace(**params)


def test_it_keeps_the_final_and_the_initial_readings(world):
    new = replace(world)
    world.cold.refresh_from_db()
    assert world.cold.archived_on == date(2026, 11, 10)
    final = Reading.objects.get(meter=world.cold, month=date(2026, 11, 1), is_accepted=True)
    assert final.kind == Reading.Kind.FINAL
    assert final.value1 == 134
    assert new.replaces == world.cold
    assert new.initial_value1 == Decimal("0.5")
    assert new.installed_on == date(2026, 11, 10)
    # The resident then submits the new meter; its consumption starts from the initial value.
    result = reading_submit(
        account=world.account,
        entries=[ReadingEntry(new.pk, ("3,5",))],
        user=world.resident,
        today=TODAY,
    )
    assert result.ok, result.messages()
    history = meter_history_rows(meter=new)
    assert history[0].consumption == [Decimal(3)]
    assert meter_history_rows(meter=world.cold)[0].consumption == [Decimal(4)]


def test_it_takes_a_final_reading_of_a_meter_past_its_verification(world):
    world.cold.verified_on = date(2020, 1, 1)
    world.cold.next_verification_on = date(2026, 11, 1)
    world.cold.save()
    assert replace(world).serial_number == "CW-NEW"


def test_it_refuses_a_final_reading_below_the_previous(world):
    with pytest.raises(ValidationError) as caught:
        replace(world, final_values=["120"])
    assert "Показания меньше предыдущих" in caught.value.message_dict["final_values"][0]
    world.cold.refresh_from_db()
    assert world.cold.archived_on is None
    assert not Meter.objects.filter(serial_number="CW-NEW").exists()


def test_it_refuses_bad_data_of_the_new_meter(world):
    with pytest.raises(ValidationError) as caught:
        replace(
            world, serial_number=" ", initial_values=["abc"], next_verification_on=date(2020, 1, 1)
        )
    assert set(caught.value.message_dict) == {
        "serial_number",
        "initial_values",
        "next_verification_on",
    }


def test_it_refuses_to_replace_an_archived_meter(world):
    meter_archive(meter=world.hot, archived_on=date(2026, 11, 1), reason="Демонтирован")
    with pytest.raises(ValidationError):
        replace(world, meter=world.hot, final_values=["70"])


def test_it_archives_a_meter_with_a_reason(world):
    meter_archive(meter=world.hot, archived_on=date(2026, 11, 1), reason="Демонтирован")
    world.hot.refresh_from_db()
    assert world.hot.archive_reason == "Демонтирован"
    with pytest.raises(ValidationError):
        meter_archive(meter=world.hot, archived_on=date(2026, 11, 2), reason="ещё раз")
    with pytest.raises(ValidationError):
        meter_archive(meter=world.power, archived_on=date(2026, 11, 2), reason=" ")
