"""The registry parser alone: encodings, layouts, footer, line errors; no database."""

import datetime
import io
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvartplata.lib.ranges import Bounds
from kvartplata.payments.parsing import (
    Block,
    Layout,
    RegistryError,
    Summary,
    check_totals,
    detect_encoding,
    parse_amount,
    parse_month,
    read_blocks,
)

COLUMNS = {
    "paid_at": 0,
    "operation_id": 1,
    "account": 2,
    "payer": 3,
    "address": 4,
    "month": 5,
    "amount": 6,
    "commission": 7,
}
LINES = [
    "03.11.2026 12:00:00;OP1;100001;Иванов Иван Иванович;"
    "г. Рязань, ул. Ленина, д. 10, кв. 1;;1500.00;15.00",
    "04.11.2026 09:30:15;OP2;100002;Петрова Анна Сергеевна;"
    "г. Рязань, ул. Садовая, д. 5, кв. 7;102026;2 500,50;0",
]
FOOTER = "=2;4000.50;15.00"


@dataclass
class Line:
    """One payment line of a block, as the tests look at it."""

    line_no: int
    natural_key: str
    account_number: str
    payer_name: str
    address: str
    paid_at_utc: datetime.datetime
    paid_on: datetime.date
    amount_kopecks: int
    commission_kopecks: int
    for_month: datetime.date | None


def lines_of(block: Block) -> list[Line]:
    out = []
    for i in range(len(block)):
        local = datetime.datetime.fromisoformat(block.paid_at[i])
        moment = datetime.datetime.fromisoformat(block.paid_at[i] + block.offsets[i])
        month = block.months[i]
        out.append(
            Line(
                block.line_nos[i],
                block.keys[i],
                block.numbers[i],
                block.payers[i],
                block.addresses[i],
                moment.astimezone(datetime.UTC).replace(tzinfo=None),
                local.date(),
                parse_amount(block.amounts[i]),
                parse_amount(block.commissions[i]),
                datetime.date.fromisoformat(month) if month else None,
            )
        )
    return out


def parse(data: bytes, layout: Layout | None = None, batch_size: int = 1000):
    layout = layout or Layout(columns=COLUMNS)
    summary = Summary()
    rows = []
    for block in read_blocks(io.BytesIO(data), layout, summary=summary, block_lines=batch_size):
        assert len(block) <= batch_size
        rows.extend(lines_of(block))
    return rows, summary


def text(lines=LINES, footer=FOOTER) -> str:
    return "\n".join([*lines, footer]) + "\n"


@pytest.mark.parametrize("encoding", ["cp1251", "utf-8", "utf-8-sig", "koi8-r", "cp866"])
def test_it_reads_every_encoding_banks_use(encoding):
    rows, summary = parse(text().encode(encoding))
    check_totals(summary, Layout(columns=COLUMNS))
    assert summary.encoding in {encoding, "utf-8-sig" if encoding == "utf-8-sig" else encoding}
    assert [r.payer_name for r in rows] == ["Иванов Иван Иванович", "Петрова Анна Сергеевна"]
    assert rows[1].address.startswith("г. Рязань, ул. Садовая")


def test_it_normalizes_a_line():
    rows, _ = parse(text().encode("cp1251"))
    first, second = rows
    assert first.line_no == 1 and first.natural_key == "OP1" and first.account_number == "100001"
    assert first.amount_kopecks == 150000 and first.commission_kopecks == 1500
    # Moscow time is UTC+3: the stored moment is in UTC, the payment day stays local.
    assert first.paid_at_utc == datetime.datetime(2026, 11, 3, 9, 0, 0)
    assert first.paid_on == datetime.date(2026, 11, 3)
    assert first.for_month is None
    assert second.amount_kopecks == 250050
    assert second.for_month == datetime.date(2026, 10, 1)


def test_it_builds_a_key_from_date_account_and_amount_without_an_operation_id():
    lines = [ln.replace(";OP1;", ";;") for ln in LINES[:1]]
    rows, _ = parse(text(lines, "=1;1500.00").encode("utf-8"))
    assert rows[0].natural_key == "20261103120000|100001|1500.00"


def test_it_accepts_the_summary_as_a_header():
    rows, summary = parse(("\n".join([FOOTER, *LINES]) + "\n").encode("utf-8"))
    check_totals(summary, Layout(columns=COLUMNS))
    assert len(rows) == 2


def test_it_refuses_a_count_that_does_not_match_the_footer():
    _, summary = parse(text(footer="=3;4000.50").encode("utf-8"))
    with pytest.raises(RegistryError, match=r"Число платежей в файле \(2\) не совпадает"):
        check_totals(summary, Layout(columns=COLUMNS))


def test_it_refuses_a_total_that_does_not_match_the_footer():
    _, summary = parse(text(footer="=2;4000.51").encode("utf-8"))
    with pytest.raises(RegistryError, match="Сумма платежей в файле"):
        check_totals(summary, Layout(columns=COLUMNS))


def test_it_refuses_a_file_without_a_footer_as_cut_short():
    _, summary = parse(text(footer="").encode("utf-8"))
    with pytest.raises(RegistryError, match="нет итоговой строки"):
        check_totals(summary, Layout(columns=COLUMNS))


def test_it_needs_no_footer_when_the_bank_sends_none():
    layout = Layout(columns=COLUMNS, footer_prefix="")
    rows, summary = parse(text(footer="").encode("utf-8"), layout)
    check_totals(summary, layout)
    assert len(rows) == 2


def test_it_lists_every_bad_line_with_its_number():
    bad = [
        LINES[0],
        "31.02.2026 10:00:00;OP3;100003;Сидоров;адрес;;10.00;0",
        "01.11.2026 10:00:00;OP4;100004;Сидоров;адрес;;12,3,4;0",
        "01.11.2026;OP5;100005;Сидоров",
        "01.11.2026 10:00:00;OP6;100006;Сидоров;адрес;13-2026;10.00;0",
        "01.11.2026 10:00:00;OP7;;Сидоров;адрес;;10.00;0",
        "01.11.2026 10:00:00;OP8;100008;Сидоров;адрес;;-5.00;0",
    ]
    _, summary = parse(text(bad, "=7;1537.00").encode("utf-8"))
    with pytest.raises(RegistryError) as info:
        check_totals(summary, Layout(columns=COLUMNS))
    report = info.value.report()
    assert "ошибок в строках — 6" in report
    assert "Строка 2: неверная дата «31.02.2026 10:00:00» — ожидается ДД.ММ.ГГГГ чч:мм:сс" in report
    assert "Строка 3: неверная сумма «12,3,4»" in report
    assert "Строка 4: полей 4, а по настройке банка нужно не меньше 8" in report
    assert "Строка 5: неверный месяц оплаты «13-2026»" in report
    assert "Строка 6: не указан номер лицевого счёта" in report
    assert "Строка 7: неверная сумма «-5.00»" in report


def test_it_refuses_an_empty_file():
    with pytest.raises(RegistryError, match="Файл пустой"):
        parse(b"  \n\n")


def test_it_refuses_a_binary_file():
    with pytest.raises(RegistryError, match="не похож на текстовый"):
        parse(text().encode("utf-16"))


def test_it_refuses_utf8_when_the_bank_says_windows_1251():
    layout = Layout(columns=COLUMNS, encoding="cp1251")
    with pytest.raises(RegistryError, match="Файл в кодировке UTF-8, а в настройке банка"):
        parse(text().encode("utf-8"), layout)


def test_it_refuses_bytes_that_do_not_decode_in_the_bank_encoding():
    layout = Layout(columns=COLUMNS, encoding="utf-8")
    data = text().encode("utf-8") + "\n".join(LINES).encode("cp1251")
    with pytest.raises(RegistryError, match="не читается в кодировке UTF-8"):
        parse(data, layout)


def test_it_refuses_a_bank_setting_without_required_columns():
    with pytest.raises(RegistryError, match="не указаны колонки: amount"):
        parse(text().encode("utf-8"), Layout(columns={"paid_at": 0, "account": 2}))


def test_it_reads_a_bank_with_date_and_time_apart_and_a_title_line():
    layout = Layout(
        columns={"paid_at": 0, "paid_time": 1, "operation_id": 2, "account": 3, "amount": 4},
        date_format="%d-%m-%Y %H-%M-%S",
        header_lines=1,
        delimiter="|",
    )
    data = "Дата|Время|Операция|ЛС|Сумма\n05-11-2026|08-15-00|77|100001|99.90\n=1|99.90\n"
    rows, summary = parse(data.encode("koi8-r"), layout)
    check_totals(summary, layout)
    assert rows[0].paid_at_utc == datetime.datetime(2026, 11, 5, 5, 15)
    assert rows[0].amount_kopecks == 9990


def test_it_streams_in_bounded_batches():
    lines = [
        f"03.11.2026 12:00:00;OP{i};{100000 + i % 50};Плательщик;Адрес;;1.00;0" for i in range(2500)
    ]
    rows, summary = parse(text(lines, "=2500;2500.00").encode("cp1251"), batch_size=1000)
    check_totals(summary, Layout(columns=COLUMNS))
    assert len(rows) == 2500 and summary.lines == 2500


def test_it_refuses_a_payment_after_the_footer():
    _, summary = parse(("\n".join([*LINES, FOOTER, LINES[0]]) + "\n").encode("utf-8"))
    with pytest.raises(RegistryError) as info:
        check_totals(summary, Layout(columns=COLUMNS))
    assert "Строка 4: платёж после итоговой строки." in info.value.report()


def test_it_detects_cyrillic_code_pages():
    sample = "Иванов Иван Иванович; г. Рязань, ул. Ленина, квартира".encode
    assert detect_encoding(sample("cp1251")) == "cp1251"
    assert detect_encoding(sample("koi8-r")) == "koi8-r"
    assert detect_encoding(sample("cp866")) == "cp866"


@pytest.mark.parametrize(
    ("raw", "month"),
    [
        ("102026", (2026, 10)),
        ("10.2026", (2026, 10)),
        ("2026-10", (2026, 10)),
        ("1026", (2026, 10)),
    ],
)
def test_it_reads_the_month_paid_for(raw, month):
    assert parse_month(raw) == datetime.date(*month, 1)


@given(st.integers(min_value=1, max_value=10**11))
def test_it_reads_amounts_exactly(kopecks):
    rub, kop = divmod(kopecks, 100)
    assert parse_amount(f"{rub}.{kop:02d}") == kopecks
    assert parse_amount(f"{rub},{kop:02d}") == kopecks


@pytest.mark.parametrize("raw", ["", "1.234", "1e5", "abc", "1,2,3", "--1"])
def test_it_rejects_malformed_amounts(raw):
    assert parse_amount(raw) is None


BOUNDED = Layout(
    columns=COLUMNS,
    bounds=Bounds(
        earliest=datetime.date(2026, 1, 1),
        latest=datetime.date(2027, 12, 5),
        max_amount=Decimal("1000000.00"),
    ),
)
field = st.one_of(
    st.sampled_from(["03.11.2026 12:00:00", "03.12.0226 10:00:00", "01.01.1900 00:00:00"]),
    st.sampled_from(["9 999 999 999,99", "1000000.01", "1000000.00", "0.00", "1e400", "102026"]),
    st.text(max_size=12),
)
payment_line = st.lists(field, min_size=0, max_size=10).map(";".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(payment_line, min_size=1, max_size=6), st.booleans())
def test_it_never_lets_a_random_line_escape_or_out_of_range(lines, footer):
    data = ("\n".join(lines) + ("\n=1;1.00\n" if footer else "\n")).encode("utf-8")
    try:
        rows, summary = parse(data, BOUNDED)
    except RegistryError:
        return
    for row in rows:
        assert 0 < row.amount_kopecks <= 100_000_000
        assert datetime.date(2026, 1, 1) <= row.paid_on <= datetime.date(2027, 12, 5)
    assert summary.lines >= len(rows)
