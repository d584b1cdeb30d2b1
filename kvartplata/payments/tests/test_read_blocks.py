"""The registry reader over whole files: chunks cut anywhere, odd line breaks, titles,
summaries in odd places, every kind of bad line.

Random registries are read in chunks of every size: rows, counts, totals and messages do not
depend on where a chunk ends. The rules and messages themselves are tested in test_parsing.py.
"""

import datetime
import io
import random
import re

import pytest

from kvartplata.payments import parsing
from kvartplata.payments.parsing import Layout, RegistryError, Summary, read_blocks

SBER = Layout(
    columns={
        "paid_at": 0,
        "operation_id": 1,
        "account": 2,
        "payer": 3,
        "address": 4,
        "month": 5,
        "amount": 6,
        "commission": 7,
    }
)
SPLIT_TIME = Layout(
    columns={"paid_at": 0, "paid_time": 1, "account": 2, "amount": 3, "commission": 4},
    date_format="%d-%m-%Y %H-%M-%S",
    delimiter="|",
    header_lines=2,
)
SHORT_YEAR = Layout(
    columns={"account": 0, "paid_at": 1, "amount": 2, "month": 3, "payer": 4},
    date_format="%d%m%y",
    footer_prefix="",
)
WORDY_DATE = Layout(
    columns={"paid_at": 0, "operation_id": 1, "account": 2, "amount": 3},
    date_format="%d/%m/%Y %I:%M %p",
)


def _amount(rng: random.Random, clean: bool = False) -> str:
    good = f"{rng.randint(1, 99999)}.{rng.randint(0, 99):02d}"
    if clean:
        return rng.choice([good, good.replace(".", ",")])
    return rng.choice(
        [good] * 12
        + [
            good.replace(".", ","),
            f"{rng.randint(1, 999)}",
            f"{rng.randint(1, 999)}.5",
            "0.00",
            "00.50",
            "1 250,00",
            "-5.00",
            "12,3,4",
            " 7.00",
            "1234567890123.00",
            "",
            "abc",
        ]
    )


def _date(rng: random.Random, layout: Layout, clean: bool = False) -> list[str]:
    day = rng.choice([1, 3, 9, 15, 28, 29, 30, 31])
    month = rng.choice([1, 2, 4, 11, 12])
    year = rng.choice([2024, 2026, 2026, 2026])
    hour, minute, second = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    odd = not clean and rng.random() < 0.1
    if clean:
        day = min(day, 28)
    if layout is SPLIT_TIME:
        date = f"{day:02d}-{month:02d}-{year}"
        time = f"{hour:02d}-{minute:02d}-{second:02d}"
        if odd:
            time = rng.choice([f"{hour}-{minute}-{second}", "25-00-00", ""])
        return [date, time]
    if layout is SHORT_YEAR:
        text = f"{day:02d}{month:02d}{year % 100:02d}"
        return [rng.choice([text, f"{day}{month:02d}{year % 100:02d}"]) if odd else text]
    if layout is WORDY_DATE:
        return [f"{day:02d}/{month:02d}/{year} {hour % 12 or 12:02d}:{minute:02d} AM"]
    text = f"{day:02d}.{month:02d}.{year} {hour:02d}:{minute:02d}:{second:02d}"
    if odd:
        text = rng.choice(
            [f"{day}.{month}.{year} {hour}:{minute}:{second}", "32.01.2026 10:00:00", text + " "]
        )
    return [text]


def _line(rng: random.Random, layout: Layout, i: int, clean: bool = False) -> str:
    cols = layout.columns
    fields = [""] * (max(cols.values()) + 1)
    fields[cols["amount"]] = _amount(rng, clean)
    when = _date(rng, layout, clean)
    fields[cols["paid_at"]] = when[0]
    if "paid_time" in cols:
        fields[cols["paid_time"]] = when[1]
    fields[cols["account"]] = rng.choice(
        [f"{rng.randint(1, 40):010d}"] * 8 + ["", " 0000000007 ", "1" * 41, "42"]
    )
    if "operation_id" in cols:
        fields[cols["operation_id"]] = rng.choice([f"OP{i % 50}", "", "X" * 161, f"ОП-{i}"])
    if "payer" in cols:
        fields[cols["payer"]] = rng.choice(
            ["Иванов Иван Иванович", " Петрова А. С. ", "Я" * 170, "back\\slash", "tab\there"]
        )
    if "address" in cols:
        fields[cols["address"]] = rng.choice(["г. Рязань, ул. Ленина, д. 10, кв. 1", "", "а" * 300])
    if "month" in cols:
        fields[cols["month"]] = rng.choice(
            ["", "", "102026", "10.2026", "2026-10", "1026", "3/2026", "13-2026", "abc"]
        )
    if "commission" in cols:
        fields[cols["commission"]] = rng.choice(["0.00", "", "15,50", "x", "1.5"])
    if clean:
        fields[cols["account"]] = f"{rng.randint(1, 40):010d}"
        for name, values in (
            ("operation_id", [f"OP{i}"] * 9 + [""]),
            ("month", ["102026", "", "10.2026"]),
            ("commission", ["0.00", "", "15,50"]),
            ("payer", ["Иванов Иван Иванович", "back\\slash"]),
        ):
            if name in cols:
                fields[cols[name]] = rng.choice(values)
    line = layout.delimiter.join(fields)
    if clean:
        return line
    return rng.choice([line] * 20 + [line + layout.delimiter + "extra", line[: len(line) // 2]])


def _registry(rng: random.Random, layout: Layout, n: int) -> str:
    lines = [f"Заголовок {k}" for k in range(layout.header_lines)]
    for i in range(n):
        lines.append(_line(rng, layout, i))
        if rng.random() < 0.02:
            lines.append(rng.choice(["", "   ", "\t"]))
        if layout.footer_prefix and rng.random() < 0.01:
            lines.append(f"={rng.randint(1, 5)};100.00")
    if layout.footer_prefix and rng.random() < 0.8:
        lines.append(f"={n};{rng.randint(1, 10**6)}.00")
    end = rng.choice(["\n", "\r\n", "\r"])
    text = end.join(lines)
    return text + rng.choice([end, ""])


def _read(data: bytes, layout: Layout, block_lines: int | None = None):
    summary = Summary()
    rows = []
    try:
        for block in read_blocks(
            io.BytesIO(data), layout, summary=summary, block_lines=block_lines
        ):
            for i in range(len(block)):
                paid = datetime.datetime.fromisoformat(block.paid_at[i] + block.offsets[i])
                rows.append(
                    (
                        block.line_nos[i],
                        block.keys[i],
                        block.numbers[i],
                        block.payers[i],
                        block.addresses[i],
                        paid.astimezone(datetime.UTC).replace(tzinfo=None),
                        block.amounts[i],
                        block.commissions[i],
                        block.months[i],
                    )
                )
    except RegistryError as exc:
        return None, summary, exc.report()
    return rows, summary, None


@pytest.mark.parametrize("layout", [SBER, SPLIT_TIME, SHORT_YEAR, WORDY_DATE])
@pytest.mark.parametrize("seed", range(12))
def test_it_reads_the_same_wherever_a_chunk_ends(layout, seed, monkeypatch):
    rng = random.Random(seed)
    text = _registry(rng, layout, rng.choice([1, 30, 300]))
    for encoding in ("cp1251", "utf-8", "utf-8-sig"):
        data = text.encode(encoding)
        rows, summary, error = _read(data, layout)
        # Small chunks: lines and \r\n pairs are cut at every possible place (the sample that
        # chooses the encoding stays the same).
        with monkeypatch.context() as patch:
            patch.setattr(parsing, "CHUNK_BYTES", rng.choice([7, 64, 500, 4096]))
            cut = _read(data, layout, block_lines=rng.choice([1, 50]))
        cut_rows, cut_summary, cut_error = cut
        if error and "не читается в кодировке" in error:
            # "около строки N": a smaller chunk stops earlier, with fewer lines checked.
            assert cut_error is not None
            assert re.sub(r"строки \d+", "", cut_error.splitlines()[0]) == re.sub(
                r"строки \d+", "", error.splitlines()[0]
            )
            continue
        assert cut_error == error
        assert cut_rows == rows
        assert vars(cut_summary) == vars(summary)


@pytest.mark.parametrize("layout", [SBER, SPLIT_TIME, SHORT_YEAR])
def test_it_reads_clean_registries_whole(layout):
    rng = random.Random(99)
    lines = [_line(rng, layout, i, clean=True) for i in range(2000)]
    text = "\n".join(["Заголовок"] * layout.header_lines + lines) + "\n"
    summary = Summary()
    blocks = list(read_blocks(io.BytesIO(text.encode("cp1251")), layout, summary=summary))
    assert summary.error_count == 0 and sum(map(len, blocks)) == 2000
    assert summary.lines == 2000


def test_it_reads_a_clean_chunk_column_by_column():
    lines = [
        f"03.11.2026 12:00:{i % 60:02d};OP{i};{100000 + i};Плательщик;Адрес;;1{i}.50;0.00"
        for i in range(500)
    ]
    summary = Summary()
    data = ("\n".join(lines) + "\n=500;6375250.00\n").encode("cp1251")
    blocks = list(read_blocks(io.BytesIO(data), SBER, summary=summary))
    assert sum(map(len, blocks)) == 500
    assert blocks[0].paid_at[0] == "2026-11-03 12:00:00" and blocks[0].offsets[0] == "+03:00"
    assert blocks[0].keys[:2] == ["OP0", "OP1"] and blocks[0].amounts[1] == "11.50"
    # 1{i}.50 ₽ for i = 0 … 499: 10 + 11 + … + 19, 110 … 199, 1100 … 1499 roubles and 500 × 50 kop.
    rubles = sum(range(10, 20)) + sum(range(110, 200)) + sum(range(1100, 1500))
    assert summary.footer_count == 500 and summary.amount_kopecks == rubles * 100 + 500 * 50


def test_it_names_every_line_with_a_bad_month_not_only_the_first():
    # The old line reader remembered a bad month text as «no month» after its first error.
    line = "03.11.2026 12:00:00;OP{};100001;Иванов;Адрес;abc;10.00;0"
    data = ("\n".join(line.format(i) for i in range(3)) + "\n=3;30.00\n").encode("cp1251")
    summary = Summary()
    assert sum(map(len, read_blocks(io.BytesIO(data), SBER, summary=summary))) == 0
    assert [e.split(":")[0] for e in summary.errors] == ["Строка 1", "Строка 2", "Строка 3"]


def test_it_refuses_zero_bytes_anywhere_in_the_file():
    lines = ["03.11.2026 12:00:00;OP1;100001;Иванов;Адрес;;10.00;0"] * 3000
    data = ("\n".join(lines) + "\nплатёж\x00\n").encode("cp1251")
    with pytest.raises(RegistryError, match="нулевые байты"):
        list(read_blocks(io.BytesIO(data), SBER, summary=Summary()))


def test_it_tells_the_line_that_does_not_decode():
    good = "03.11.2026 12:00:00;OP1;100001;Иванов;Адрес;;10.00;0\n"
    data = (good * 5).encode("utf-8") + good.encode("cp1251") + (good * 3).encode("utf-8")
    layout = Layout(columns=SBER.columns, encoding="utf-8")
    with pytest.raises(RegistryError, match=r"около строки 6\)"):
        list(read_blocks(io.BytesIO(data), layout, summary=Summary()))
