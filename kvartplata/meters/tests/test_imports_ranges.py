"""The readings CSV refuses out-of-range lines with their number (issue #16, item 3)."""

from datetime import date

import hypothesis
import pytest
from hypothesis import strategies as st

from kvartplata.meters.imports import readings_import
from kvartplata.meters.models import Reading

TODAY = date(2026, 11, 20)
HEADER = "account;serial_number;month;value1;value2;value3;confirm\n"


def load(world, text):
    return readings_import(
        organization=world.organization, content=text.encode(), user=world.staff, today=TODAY
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("1000015;CW-1;0001-01;135;;;", "Месяц показаний 01.01.0001 — раньше первого"),
        ("1000015;CW-1;1969-12;135;;;", "Месяц показаний 01.12.1969 — раньше первого"),
        ("1000015;CW-1;2099-01;135;;;", "Месяц показаний 01.01.2099 — больше чем на год вперёд"),
        ("1000015;CW-1;2026-11;1e400;;;", "Введите число цифрами"),
        ("1000015;CW-1;2026-11;Infinity;;;", "Введите число цифрами"),
        ("1000015;CW-1;2026-11;-135;;;", "Показания не могут быть отрицательными."),
        ("1000015;CW-1;2026-11;99999999999999999999;;;", "Слишком большое число"),
    ],
)
def test_it_refuses_an_out_of_range_line_with_its_number(world, line, message):
    before = Reading.objects.count()
    report = load(world, HEADER + line + "\n")
    assert not report.accepted
    assert [r.line for r in report.refused] == [2]
    assert message in report.refused[0].message, report.refused[0].message
    assert Reading.objects.count() == before


cell = st.one_of(
    st.sampled_from(["1000015", "1000016", "CW-1", "EL-1", "2026-11", "11.2026", "0001-01"]),
    st.sampled_from(["1e400", "-1", "NaN", "135", "1390", "99999999999999999999", "9999-12"]),
    st.text(max_size=10),
)
row = st.lists(cell, max_size=8).map(";".join)


@hypothesis.settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        hypothesis.HealthCheck.function_scoped_fixture,
        hypothesis.HealthCheck.too_slow,
    ],
)
@hypothesis.given(rows=st.lists(row, min_size=1, max_size=5))
def test_it_never_lets_random_lines_escape(world, rows):
    before = Reading.objects.count()
    report = load(world, HEADER + "\n".join(rows) + "\n")
    # Every line is answered (accepted or refused with a reason); only good lines are stored.
    assert all(r.message for r in report.refused)
    stored = Reading.objects.count() - before
    assert stored <= len(report.accepted)
    for reading in Reading.objects.filter(month__gt=date(2026, 10, 1)):
        assert date(2026, 10, 1) <= reading.month <= date(2027, 12, 1)
        assert all(v is None or (v.is_finite() and v >= 0) for v in reading.values())
