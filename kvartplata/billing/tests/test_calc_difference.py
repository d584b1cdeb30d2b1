"""Why a bill changed: hand-computed causes and the property that they sum to the change."""

from datetime import date
from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from kvartplata.billing.calc.difference import (
    AREA,
    AVERAGE,
    COMMON_HOUSE,
    METER,
    NORM,
    NORM_COEFFICIENT,
    PERSON,
    Cause,
    Line,
    Month,
    Payment,
    Recalculation,
    decompose,
    describe,
    headline,
)

JUNE, JULY = date(2026, 6, 1), date(2026, 7, 1)


def causes(difference):
    return [(p.service, p.cause, p.amount) for p in difference.parts]


def test_it_splits_a_tariff_rise_from_a_volume_change():
    # June: 4,100 m³ × 45,20 = 185,32. July: 6,200 m³ × 49,67 = 307,954 → 307,95.
    # Tariff: 4,100 × (49,67 − 45,20) = 4,100 × 4,47 = 18,327 → 18,33.
    # Volume: the rest, 307,95 − 185,32 − 18,33 = 104,30.
    june = Month(JUNE, lines=[Line("ГВС", D("185.32"), D("4.100"), D("45.20"), unit="м³")])
    july = Month(JULY, lines=[Line("ГВС", D("307.95"), D("6.200"), D("49.67"), unit="м³")])
    difference = decompose(june, july)
    assert causes(difference) == [
        ("ГВС", Cause.TARIFF, D("18.33")),
        ("ГВС", Cause.VOLUME, D("104.30")),
    ]
    assert difference.bill_change == D("122.63")
    texts = [describe(p) for p in difference.parts]
    assert texts[0] == "тариф с 1 июля: 49,67 ₽ вместо 45,20 ₽, +9,9 % — +18,33\u00a0₽"
    assert texts[1] == "расход 6,200 м³ вместо 4,100 м³ — +104,30\u00a0₽"
    assert headline(difference) == "Сумма к оплате выросла на 122,63\u00a0₽"


def test_it_names_the_method_and_says_what_to_do():
    # Meter 5,000 m³ × 40,00 = 200,00; then the average 5,500 m³ × 40,00 = 220,00: +20,00.
    june = Month(JUNE, lines=[Line("ХВС", D("200.00"), D("5.000"), D("40.00"), METER, unit="м³")])
    july = Month(JULY, lines=[Line("ХВС", D("220.00"), D("5.500"), D("40.00"), AVERAGE, unit="м³")])
    (part,) = decompose(june, july).parts
    assert (part.cause, part.amount) == (Cause.METHOD, D("20.00"))
    assert describe(part) == (
        "показания счётчика за месяц не поступили — "
        "начислено по среднему вместо показаний счётчика — +20,00\u00a0₽; "
        "передайте показания счётчика до 25-го числа, и начисление пересчитают"
    )


def test_it_says_the_readings_stopped_coming_when_the_norm_follows_the_average():
    # The average 5,500 m³ × 40,00 = 220,00; after 3 months the norm 6,935 × 40,00 = 277,40:
    # +57,40.
    june = Month(JUNE, lines=[Line("ХВС", D("220.00"), D("5.500"), D("40.00"), AVERAGE)])
    july = Month(JULY, lines=[Line("ХВС", D("277.40"), D("6.935"), D("40.00"), NORM)])
    (part,) = decompose(june, july).parts
    assert describe(part) == (
        "показания счётчика не поступают больше 3 месяцев — начислено по нормативу вместо "
        "среднего — +57,40\u00a0₽; передайте показания счётчика до 25-го числа"
    )


def test_it_names_the_zone_of_a_two_zone_meter():
    # Day 100,0 kWh × 6,45 = 645,00 → × 7,03 = 703,00 (+58,00, the tariff's);
    # night 40,0 × 2,98 = 119,20 → 50,0 × 3,25 = 162,50: tariff 40,0 × 0,27 = 10,80, volume
    # 162,50 − 119,20 − 10,80 = 32,50.
    def zone(n, amount, volume, tariff):
        return Line("ЭЭ", D(amount), D(volume), D(tariff), METER, zone=n, unit="кВт·ч")

    june = Month(
        JUNE, lines=[zone(1, "645.00", "100.0", "6.45"), zone(2, "119.20", "40.0", "2.98")]
    )
    july = Month(
        JULY, lines=[zone(1, "703.00", "100.0", "7.03"), zone(2, "162.50", "50.0", "3.25")]
    )
    texts = [describe(p) for p in decompose(june, july).parts]
    assert texts == [
        "тариф (день) с 1 июля: 7,03 ₽ вместо 6,45 ₽, +9,0 % — +58,00\u00a0₽",
        "тариф (ночь) с 1 июля: 3,25 ₽ вместо 2,98 ₽, +9,1 % — +10,80\u00a0₽",
        "расход (ночь) 50,000 кВт·ч вместо 40,000 кВт·ч — +32,50\u00a0₽",
    ]


def test_it_names_an_expired_meter_billed_by_norm_with_coefficient():
    # Norm 6,935 m³ × 3 = 20,805 m³ × 40,00 = 832,20 against 5,000 × 40,00 = 200,00: +632,20.
    june = Month(JUNE, lines=[Line("ХВС", D("200.00"), D("5.000"), D("40.00"), METER)])
    july = Month(JULY, lines=[Line("ХВС", D("832.20"), D("20.805"), D("40.00"), NORM_COEFFICIENT)])
    (part,) = decompose(june, july).parts
    assert part.amount == D("632.20")
    assert "по нормативу с повышающим коэффициентом" in describe(part)
    assert "поверьте или замените счётчик" in describe(part)


def test_it_says_the_meter_verification_expired_when_its_readings_are_not_used():
    # The verification date was 10.06: July by the average 5,500 m³ × 40,00 = 220,00 against the
    # meter's 5,000 m³ × 40,00 = 200,00 in June: +20,00.
    june = Month(JUNE, lines=[Line("ХВС", D("200.00"), D("5.000"), D("40.00"), METER, unit="м³")])
    july = Month(
        JULY,
        lines=[Line("ХВС", D("220.00"), D("5.500"), D("40.00"), AVERAGE, unit="м³")],
        expired=[("ХВС", date(2026, 6, 10))],
    )
    (part,) = decompose(june, july).parts
    assert (part.cause, part.amount) == (Cause.METHOD, D("20.00"))
    assert part.extra["expired_on"] == date(2026, 6, 10)
    assert describe(part) == (
        "срок поверки счётчика истёк 10.06.2026 — начислено по среднему вместо показаний "
        "счётчика — +20,00\u00a0₽; поверьте счётчик и передайте показания"
    )


def test_it_says_the_meter_verification_expired_when_the_coefficient_appears():
    # Norm 6,935 m³ × 40,00 = 277,40 in June; × 3 in July: 20,805 m³ × 40,00 = 832,20: +554,80.
    june = Month(JUNE, lines=[Line("ХВС", D("277.40"), D("6.935"), D("40.00"), NORM_COEFFICIENT)])
    july = Month(
        JULY,
        lines=[
            Line("ХВС", D("832.20"), D("20.805"), D("40.00"), NORM_COEFFICIENT, coefficient=D(3))
        ],
        expired=[("ХВС", date(2026, 3, 10))],
    )
    (part,) = decompose(june, july).parts
    assert (part.cause, part.amount) == (Cause.COEFFICIENT, D("554.80"))
    assert describe(part) == (
        "срок поверки счётчика истёк 10.03.2026 — повышающий коэффициент 3,0 вместо 1,0 — "
        "+554,80\u00a0₽; поверьте счётчик и передайте показания"
    )


def test_it_does_not_blame_an_expired_meter_of_another_service():
    june = Month(JUNE, lines=[Line("ХВС", D("200.00"), D("5.000"), D("40.00"), METER)])
    july = Month(
        JULY,
        lines=[Line("ХВС", D("220.00"), D("5.500"), D("40.00"), AVERAGE)],
        expired=[("ГВС", date(2026, 6, 10))],
    )
    (part,) = decompose(june, july).parts
    assert "expired_on" not in part.extra
    assert "поверки" not in describe(part)


def test_it_leaves_no_rounding_kopeck_apart_when_only_the_tariff_changed():
    # 42,705 m³ × 45,67 = 1 950,34 (1 950,33735); × 49,78 = 2 125,85 (2 125,8549): +175,51,
    # while 42,705 × 4,11 = 175,52 (175,51755) rounded alone: the whole +175,51 is the tariff's.
    june = Month(JUNE, lines=[Line("ХВС", D("1950.34"), D("42.705"), D("45.67"), METER)])
    july = Month(JULY, lines=[Line("ХВС", D("2125.85"), D("42.705"), D("49.78"), METER)])
    assert causes(decompose(june, july)) == [("ХВС", Cause.TARIFF, D("175.51"))]


def test_it_splits_the_common_house_tariff_from_its_volume():
    # Same volume: 0,157 × 215,40 = 33,82 → 0,157 × 234,79 = 36,86: +3,04, all the tariff's.
    def common(amount, volume, tariff):
        return Line("ГВС", D(amount), D(volume), D(tariff), "common_house_norm", COMMON_HOUSE)

    june = Month(JUNE, lines=[common("33.82", "0.157", "215.40")])
    july = Month(JULY, lines=[common("36.86", "0.157", "234.79")])
    (part,) = decompose(june, july).parts
    assert (part.cause, part.amount) == (Cause.TARIFF, D("3.04"))
    assert describe(part).startswith("тариф на общедомовые нужды с 1 июля: 234,79 ₽ вместо")
    # Volume too: 0,200 × 234,79 = 46,96 (46,958): +13,14; tariff 0,157 × 19,39 = 3,04
    # (3,04423); the house's volume the rest, 13,14 − 3,04 = 10,10.
    july = Month(JULY, lines=[common("46.96", "0.200", "234.79")])
    assert causes(decompose(june, july)) == [
        ("ГВС", Cause.TARIFF, D("3.04")),
        ("ГВС", Cause.COMMON_HOUSE, D("10.10")),
    ]


def test_it_names_residents_and_area():
    # Waste per person: 2 × 150,00 = 300,00 → 3 × 150,00 = 450,00.
    # Maintenance by area: 50,00 m² × 30,00 = 1 500,00 → 52,50 × 30,00 = 1 575,00.
    june = Month(
        JUNE,
        lines=[
            Line("ТКО", D("300.00"), D("2"), D("150.00"), PERSON),
            Line("Содержание", D("1500.00"), D("50.00"), D("30.00"), AREA),
        ],
    )
    july = Month(
        JULY,
        lines=[
            Line("ТКО", D("450.00"), D("3"), D("150.00"), PERSON),
            Line("Содержание", D("1575.00"), D("52.50"), D("30.00"), AREA),
        ],
    )
    parts = {p.service: p for p in decompose(june, july).parts}
    assert (parts["ТКО"].cause, parts["ТКО"].amount) == (Cause.RESIDENTS, D("150.00"))
    assert describe(parts["ТКО"]) == "проживающих 3 чел. вместо 2 — +150,00\u00a0₽"
    assert (parts["Содержание"].cause, parts["Содержание"].amount) == (Cause.AREA, D("75.00"))
    assert describe(parts["Содержание"]) == "площадь 52,50 м² вместо 50,00 м² — +75,00\u00a0₽"


def test_it_separates_common_house_needs_new_and_removed_services():
    june = Month(
        JUNE,
        lines=[
            Line("ХВС", D("200.00"), D("5.000"), D("40.00")),
            Line("ХВС", D("4.00"), D("0.100"), D("40.00"), "common_house_meter", COMMON_HOUSE),
            Line("Антенна", D("90.00"), D("1"), D("90.00"), PERSON),
        ],
    )
    july = Month(
        JULY,
        lines=[
            Line("ХВС", D("200.00"), D("5.000"), D("40.00")),
            Line("ХВС", D("6.40"), D("0.160"), D("40.00"), "common_house_meter", COMMON_HOUSE),
            Line("Домофон", D("55.00"), D("1"), D("55.00"), PERSON),
        ],
    )
    assert causes(decompose(june, july)) == [
        ("Антенна", Cause.REMOVED_SERVICE, D("-90.00")),
        ("Домофон", Cause.NEW_SERVICE, D("55.00")),
        ("ХВС", Cause.COMMON_HOUSE, D("2.40")),
    ]
    # 0,160 × 40,00 = 6,40 against 0,100 × 40,00 = 4,00: the house's volume, +2,40.
    assert [describe(p) for p in decompose(june, july).parts] == [
        "услуга больше не начисляется: −90,00\u00a0₽",
        "новая услуга в квитанции: +55,00\u00a0₽",
        "общедомовые нужды: 0,160 вместо 0,100 — +2,40\u00a0₽",
    ]


def test_it_lists_recalculations_penalties_and_the_debt_with_payments():
    # June's bill 1 000,00 with a −50,00 recalculation; July's 1 000,00 with +120,00 for
    # March, penalties 3,17 (none in June), and a carried debt that fell from 2 000,00 to 950,00
    # after a payment of 1 050,00 on 12.06.
    line = Line("Отопление", D("1000.00"), D("0.5000"), D("2000.00"))
    june = Month(
        JUNE,
        lines=[line],
        recalculations=[Recalculation("Отопление", D("-50.00"), date(2026, 2, 1), "перерасчёт")],
        carried=D("2000.00"),
    )
    july = Month(
        JULY,
        lines=[line],
        recalculations=[
            Recalculation("Отопление", D("120.00"), date(2026, 3, 1), "показания за март")
        ],
        penalties=D("3.17"),
        carried=D("950.00"),
        payments=[Payment(date(2026, 6, 12), D("1050.00"))],
    )
    difference = decompose(june, july)
    assert causes(difference) == [
        ("Отопление", Cause.RECALCULATION, D("120.00")),
        ("Отопление", Cause.RECALCULATION_GONE, D("50.00")),
        (None, Cause.PENALTY, D("3.17")),
        (None, Cause.DEBT, D("-1050.00")),
    ]
    # 2 950,00 → 2 073,17.
    assert difference.total_change == D("-876.83")
    texts = [describe(p) for p in difference.parts]
    assert texts[0] == "перерасчёт за март 2026 (показания за март): +120,00\u00a0₽"
    assert texts[2] == "пени 3,17\u00a0₽ вместо 0,00\u00a0₽: +3,17\u00a0₽"
    assert texts[3] == (
        "долг с прошлых месяцев 950,00\u00a0₽ (оплата от 12.06 на 1\u00a0050,00\u00a0₽ учтена): "
        "−1\u00a0050,00\u00a0₽"
    )
    assert headline(difference) == "Сумма к оплате уменьшилась на 876,83\u00a0₽"
    assert texts[1] == "перерасчёт прошлого месяца в этот раз не повторяется: +50,00\u00a0₽"


def test_it_names_an_advance_and_an_unchanged_sum():
    # An advance of 300,00 carried after a payment of 1 300,00 on 05.07 (a debt of 1 000,00
    # before): −1 300,00; the bill itself 1 000,00 both months.
    line = Line("Отопление", D("1000.00"), D("0.5000"), D("2000.00"))
    june = Month(JUNE, lines=[line], carried=D("1000.00"))
    july = Month(
        JULY, lines=[line], carried=D("-300.00"), payments=[Payment(date(2026, 7, 5), D("1300.00"))]
    )
    (part,) = decompose(june, july).parts
    assert describe(part) == (
        "аванс 300,00\u00a0₽ (оплата от 05.07 на 1\u00a0300,00\u00a0₽ учтена): "
        "−1\u00a0300,00\u00a0₽"
    )
    assert headline(decompose(june, june)) == "Сумма к оплате не изменилась"


def test_it_orders_services_by_the_size_of_their_change():
    june = Month(JUNE, lines=[Line("А", D("10.00"), D("1"), D("10.00")), Line("Б", D("10.00"))])
    july = Month(JULY, lines=[Line("А", D("11.00"), D("1"), D("11.00")), Line("Б", D("30.00"))])
    assert [row[0] for row in decompose(june, july).by_service()] == ["Б", "А"]


money = st.decimals(min_value=-100000, max_value=100000, places=2)
volume = st.decimals(min_value=0, max_value=10000, places=3)
tariff = st.decimals(min_value=0, max_value=5000, places=2)
method = st.sampled_from([METER, AVERAGE, NORM_COEFFICIENT, PERSON, AREA])
line = st.builds(
    Line,
    service=st.sampled_from(["ХВС", "ГВС", "Отопление", "ТКО"]),
    amount=money,
    volume=volume,
    tariff=tariff,
    method=method,
    kind=st.sampled_from(["individual", COMMON_HOUSE]),
    zone=st.integers(0, 2),
    coefficient=st.sampled_from([None, D("1.5"), D("3")]),
)
recalculation = st.builds(
    Recalculation,
    service=st.sampled_from(["ХВС", "ГВС"]),
    amount=money,
    concerns_month=st.just(date(2026, 3, 1)),
)
month = st.builds(
    Month,
    month=st.just(JULY),
    lines=st.lists(line, max_size=8),
    recalculations=st.lists(recalculation, max_size=3),
    penalties=money,
    carried=money,
)


@given(month, month)
def test_it_always_sums_the_causes_to_the_change(previous, current):
    difference = decompose(previous, current)
    assert sum((p.amount for p in difference.parts), D(0)) == difference.total_change
    by_service = sum((row[1] for row in difference.by_service()), D(0))
    assert by_service == difference.total_change
    for part in difference.parts:
        assert part.amount != 0
        assert describe(part)
