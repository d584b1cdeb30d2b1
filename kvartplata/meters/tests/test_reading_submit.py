"""The resident's submission service: checks, window, replacement, closed periods, atomicity."""

from datetime import date
from decimal import Decimal

from kvartplata.meters.models import Reading
from kvartplata.meters.services import ReadingEntry, reading_submit

NOV = date(2026, 11, 1)
DEC = date(2026, 12, 1)


def submit(world, *entries, today=date(2026, 11, 20)):
    return reading_submit(
        account=world.account, entries=list(entries), user=world.resident, today=today
    )


def entry(meter, *values, confirm=False):
    return ReadingEntry(meter_id=meter.pk, values=tuple(values), confirm_high=confirm)


def accepted(meter, month=NOV):
    return Reading.objects.filter(meter=meter, month=month, is_accepted=True)


def test_it_stores_readings_of_all_meters_with_source_and_author(world):
    result = submit(
        world, entry(world.cold, "135,5"), entry(world.hot, "68"), entry(world.power, "1390", "680")
    )
    assert result.ok, result.messages()
    assert result.month == NOV
    reading = accepted(world.cold).get()
    assert reading.value1 == Decimal("135.5")
    assert reading.source == Reading.Source.CABINET
    assert reading.submitted_by == world.resident
    assert reading.submitted_at is not None
    assert accepted(world.power).get().values() == [Decimal(1390), Decimal(680)]


def test_it_replaces_the_earlier_submission_of_the_month(world):
    assert submit(world, entry(world.cold, "135")).ok
    assert submit(world, entry(world.cold, "136")).ok
    assert accepted(world.cold).get().value1 == Decimal(136)
    assert (
        Reading.objects.filter(meter=world.cold, month=NOV, is_accepted=False).get().value1 == 135
    )


def test_it_skips_meters_left_blank(world):
    assert submit(
        world, entry(world.cold, "135"), entry(world.hot, ""), entry(world.power, "", "")
    ).ok
    assert not accepted(world.hot).exists()


def test_it_refuses_an_empty_form(world):
    result = submit(world, entry(world.cold, ""), entry(world.hot, " "))
    assert result.form_error == "Введите показания хотя бы одного прибора."


def test_it_stores_nothing_when_one_meter_is_wrong(world):
    result = submit(world, entry(world.cold, "135"), entry(world.hot, "10"))
    assert not result.ok
    assert "Показания меньше предыдущих (65 м³ за октябрь 2026)" in result.errors[(world.hot.pk, 1)]
    assert not Reading.objects.filter(month=NOV).exists()


def test_it_refuses_a_meter_of_another_account(world):
    result = submit(world, entry(world.other_meter, "20"))
    assert result.errors == {(world.other_meter.pk, 0): "Прибор учёта не найден."}
    assert not accepted(world.other_meter).exists()


def test_it_refuses_an_unknown_meter(world):
    result = submit(world, ReadingEntry(meter_id=987654, values=("1",)))
    assert result.errors == {(987654, 0): "Прибор учёта не найден."}


def test_it_asks_to_confirm_a_high_consumption_then_takes_it(world):
    result = submit(world, entry(world.cold, "200"))
    assert world.cold.pk in result.confirmations
    assert not accepted(world.cold).exists()
    result = submit(world, entry(world.cold, "200", confirm=True))
    assert result.ok
    assert accepted(world.cold).get().confirmed_high


def test_it_refuses_an_archived_meter(world):
    world.cold.archived_on = date(2026, 11, 2)
    world.cold.save()
    result = submit(world, entry(world.cold, "135"))
    assert "снят с учёта 02.11.2026" in result.errors[(world.cold.pk, 0)]


def test_it_refuses_water_past_verification_but_takes_electricity(world):
    for meter in (world.cold, world.power):
        meter.verified_on = date(2020, 1, 1)
        meter.next_verification_on = date(2026, 11, 1)
        meter.save()
    result = submit(world, entry(world.cold, "135"))
    assert "истёк 01.11.2026" in result.errors[(world.cold.pk, 0)]
    assert submit(world, entry(world.power, "1390", "680")).ok


def test_it_takes_readings_after_the_window_for_the_next_month(world):
    result = submit(world, entry(world.cold, "135"), today=date(2026, 11, 27))
    assert result.ok
    assert result.month == DEC
    assert "учтены за декабрь 2026" in result.notice
    assert accepted(world.cold, DEC).exists()


def test_it_takes_readings_before_the_window_for_the_current_month(world):
    result = submit(world, entry(world.cold, "135"), today=date(2026, 11, 3))
    assert result.month == NOV


def test_it_refuses_outside_the_window_when_the_organization_says_so(world):
    world.organization.readings_outside_window = "refuse"
    world.organization.save()
    result = submit(world, entry(world.cold, "135"), today=date(2026, 11, 27))
    assert result.form_error.startswith("Показания принимаются с 15 по 25 число месяца.")
    assert not Reading.objects.filter(meter=world.cold, month__gte=NOV).exists()


def test_it_uses_the_buildings_own_window(world):
    world.building.readings_day_from, world.building.readings_day_to = 1, 10
    world.building.save()
    world.organization.readings_outside_window = "refuse"
    world.organization.save()
    assert submit(world, entry(world.cold, "135"), today=date(2026, 11, 5)).ok
    assert submit(world, entry(world.cold, "135"), today=date(2026, 11, 20)).form_error


def test_it_moves_a_reading_of_a_closed_period_to_the_open_one(world):
    # A late October reading (the period is closed) goes into November.
    result = submit(world, entry(world.cold, "135"), today=date(2026, 10, 10))
    assert result.month == NOV
    assert "Расчётный период октябрь 2026 уже закрыт" in result.notice


def test_it_keeps_the_previous_reading_of_the_month_out_of_the_comparison(world):
    assert submit(world, entry(world.cold, "140")).ok
    # Re-submitting a lower value is fine: it is compared with October, not the replaced one.
    assert submit(world, entry(world.cold, "135")).ok
    assert accepted(world.cold).get().value1 == 135
