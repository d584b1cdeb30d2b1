"""Pure parser of a bank's payment registry file: encoding, per-bank columns, footer check.

No ORM and no clock: a layout and a byte stream go in, normalized rows and a summary come out.
Everything is streamed, so memory is bounded by one block whatever the file's size. Messages are
for people and in Russian.

Two readers share one set of rules:

* `LineReader` reads one line at a time and is the reference (`iter_batches` yields its rows);
* `read_blocks`, the import's reader, decodes big chunks and checks whole columns of a block of
  lines with compiled patterns (C speed, no object per line); a run of lines where any check
  fails, and every blank, summary, title or short line, goes through `LineReader`, so every
  message and every edge case is the reference's.
"""

import calendar
import codecs
import datetime
import io
import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import repeat
from operator import methodcaller
from typing import BinaryIO

from kvartplata.lib.ranges import Bounds, amount_problem, date_problem

SAMPLE_BYTES = 64 * 1024
MAX_ERRORS_LISTED = 50
REQUIRED_COLUMNS = ("paid_at", "account", "amount")
KNOWN_COLUMNS = (
    "paid_at",
    "paid_time",
    "operation_id",
    "account",
    "payer",
    "address",
    "month",
    "amount",
    "commission",
)
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8",
    "cp1251": "windows-1251",
    "koi8-r": "KOI8-R",
    "cp866": "cp866 (DOS)",
}
# Frequent lower-case Russian letters: text decoded with the right code page is full of them,
# with a wrong one it turns into capitals, pseudo-graphics or Latin-1 letters.
FREQUENT = set("оеаинтсрвлкмдпуяызбгчйхжшюцщэфёь")
# ASCII digits only: the same patterns are what the fast reader and the database accept.
AMOUNT_RE = re.compile(r"([0-9]{1,12})(?:[.,]([0-9]{1,2}))?")
ACCOUNT_MAX = 40
KEY_MAX = 160
DIRECTIVES = {
    "d": r"(?P<d>[0-9]{1,2})",
    "m": r"(?P<m>[0-9]{1,2})",
    "Y": r"(?P<Y>[0-9]{4})",
    "y": r"(?P<y>[0-9]{2})",
    "H": r"(?P<H>[0-9]{1,2})",
    "M": r"(?P<M>[0-9]{1,2})",
    "S": r"(?P<S>[0-9]{1,2})",
}
HUMAN_DIRECTIVES = {"d": "ДД", "m": "ММ", "Y": "ГГГГ", "y": "ГГ", "H": "чч", "M": "мм", "S": "сс"}
MONTH_FORMATS = (
    re.compile(r"(?P<m>[0-9]{1,2})[./\-](?P<Y>[0-9]{4})"),  # 03.2026, 3/2026
    re.compile(r"(?P<Y>[0-9]{4})[./\-](?P<m>[0-9]{1,2})"),  # 2026-03
    re.compile(r"(?P<m>[0-9]{2})(?P<Y>[0-9]{4})"),  # 032026
    re.compile(r"(?P<m>[0-9]{2})(?P<y>[0-9]{2})"),  # 0326
)


class RegistryError(Exception):
    """The file as a whole is refused; `errors` lists the line errors when there are any."""

    def __init__(self, message: str, errors: list[str] | None = None, error_count: int = 0):
        super().__init__(message)
        self.message = message
        self.errors = errors or []
        self.error_count = error_count or len(self.errors)

    def report(self) -> str:
        """The reason and the line errors, as one text for the file's record and the screen."""
        lines = [self.message, *self.errors]
        if self.error_count > len(self.errors):
            lines.append(f"… и ещё ошибок: {self.error_count - len(self.errors)}.")
        return "\n".join(lines)


@dataclass(frozen=True)
class Layout:
    """How one bank writes its registry (taken from the Bank row)."""

    columns: dict
    encoding: str = "auto"
    delimiter: str = ";"
    date_format: str = "%d.%m.%Y %H:%M:%S"
    footer_prefix: str = "="
    header_lines: int = 0
    timezone: str = "Europe/Moscow"
    # The organization's dates (first period .. a year ahead) and largest amount of one line.
    bounds: Bounds | None = None


@dataclass
class Row:
    """One payment line, normalized: money in kopecks, the payment time in UTC."""

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


@dataclass
class Summary:
    """What the file says about itself (footer) and what was counted; filled while streaming."""

    encoding: str = ""
    lines: int = 0
    amount_kopecks: int = 0
    commission_kopecks: int = 0
    footer_count: int | None = None
    footer_amount_kopecks: int | None = None
    errors: list[str] = field(default_factory=list)
    error_count: int = 0

    def add_error(self, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_LISTED:
            self.errors.append(message)


def money_text(kopecks: int) -> str:
    return f"{kopecks // 100}.{kopecks % 100:02d}"


def parse_amount(text: str) -> int | None:
    """Roubles with an optional comma or point and up to two decimals, to kopecks; else None."""
    text = text.strip().replace(" ", "").replace("\xa0", "")
    match = AMOUNT_RE.fullmatch(text)
    if match is None:
        return None
    rub, kop = match.groups()
    if kop is None:
        return int(rub) * 100
    return int(rub) * 100 + int(kop.ljust(2, "0"))


def human_format(date_format: str) -> str:
    return re.sub(r"%(\w)", lambda m: HUMAN_DIRECTIVES.get(m.group(1), m.group(0)), date_format)


def check_layout(layout: Layout) -> None:
    """Refuse a bank setting that cannot describe a file, before reading anything."""
    columns = layout.columns or {}
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise RegistryError(
            "В настройке банка не указаны колонки: " + ", ".join(missing) + ". "
            "Укажите номера колонок (с 0) в карточке банка."
        )
    for name, index in columns.items():
        if name not in KNOWN_COLUMNS:
            raise RegistryError(f"В настройке банка неизвестная колонка «{name}».")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise RegistryError(
                f"В настройке банка номер колонки «{name}» должен быть целым числом от 0."
            )
    if not layout.delimiter or len(layout.delimiter) != 1:
        raise RegistryError("В настройке банка разделитель должен быть одним символом.")


# --- encoding ---------------------------------------------------------------------------------


def _cyrillic_score(text: str) -> int:
    score = 0
    for ch in text:
        if ch in FREQUENT:
            score += 2
        elif "А" <= ch <= "Я" or ch == "Ё":
            score += 1
        elif ch >= "\x80":
            score -= 2  # pseudo-graphics or Latin-1 letters: a wrong code page
    return score


def _decodes(sample: bytes, encoding: str) -> str | None:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        return decoder.decode(sample, final=False)
    except UnicodeDecodeError:
        return None


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (with or without BOM), windows-1251, KOI8-R or cp866, judged on a sample."""
    if b"\x00" in sample:
        raise RegistryError(
            "Файл не похож на текстовый реестр (в нём есть нулевые байты — возможно, это Excel, "
            "архив или UTF-16). Нужен текстовый файл с разделителем «;»."
        )
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if _decodes(sample, "utf-8") is not None:
        return "utf-8"
    best, best_score = "", None
    for encoding in ("cp1251", "koi8-r", "cp866"):
        text = _decodes(sample, encoding)
        if text is None:
            continue
        score = _cyrillic_score(text)
        if best_score is None or score > best_score:
            best, best_score = encoding, score
    if not best or best_score is None or best_score <= 0:
        raise RegistryError(
            "Не удалось определить кодировку файла: ожидается windows-1251, UTF-8, KOI8-R или "
            "cp866. Укажите кодировку в настройке банка."
        )
    return best


def choose_encoding(sample: bytes, configured: str) -> str:
    """The bank's encoding, or the detected one; a UTF-8 file under a code page is refused."""
    if configured in ("", "auto"):
        return detect_encoding(sample)
    if b"\x00" in sample:
        detect_encoding(sample)  # raises the "not a text file" message
    if configured == "utf-8":
        return "utf-8-sig" if sample.startswith(codecs.BOM_UTF8) else "utf-8"
    non_ascii = any(b >= 0x80 for b in sample)
    if non_ascii and (sample.startswith(codecs.BOM_UTF8) or _decodes(sample, "utf-8") is not None):
        raise RegistryError(
            f"Файл в кодировке UTF-8, а в настройке банка указана "
            f"{ENCODING_NAMES.get(configured, configured)}. Исправьте кодировку в карточке банка "
            f"или выберите «определить автоматически»."
        )
    if _decodes(sample, configured) is None:
        raise RegistryError(
            f"Файл не в кодировке {ENCODING_NAMES.get(configured, configured)}, указанной в "
            f"настройке банка."
        )
    return configured


# --- lines ------------------------------------------------------------------------------------


class _DateParser:
    """Parses the bank's date format fast (a compiled pattern, cached days and offsets)."""

    def __init__(self, date_format: str, tz_name: str):
        self.date_format = date_format
        self.human = human_format(date_format)
        self.tz = zoneinfo.ZoneInfo(tz_name)
        self.offsets: dict[tuple, datetime.timedelta] = {}
        pattern, pos = "", 0
        self.fast = True
        for match in re.finditer(r"%(.)", date_format):
            pattern += re.escape(date_format[pos : match.start()])
            directive = match.group(1)
            if directive not in DIRECTIVES:
                self.fast = False
                break
            pattern += DIRECTIVES[directive]
            pos = match.end()
        pattern += re.escape(date_format[pos:])
        self.regex = re.compile(pattern) if self.fast else None

    def local(self, text: str) -> datetime.datetime:
        if not self.fast:
            return datetime.datetime.strptime(text, self.date_format)
        match = self.regex.fullmatch(text)
        if match is None:
            raise ValueError
        g = match.groupdict()
        year = int(g["Y"]) if "Y" in g else 2000 + int(g.get("y") or 0)
        return datetime.datetime(
            year,
            int(g.get("m") or 1),
            int(g.get("d") or 1),
            int(g.get("H") or 0),
            int(g.get("M") or 0),
            int(g.get("S") or 0),
        )

    def to_utc(self, local: datetime.datetime) -> datetime.datetime:
        key = (local.year, local.month, local.day, local.hour)
        offset = self.offsets.get(key)
        if offset is None:
            offset = local.replace(tzinfo=self.tz).utcoffset()
            self.offsets[key] = offset
        return local - offset


def parse_month(text: str) -> datetime.date:
    for regex in MONTH_FORMATS:
        match = regex.fullmatch(text)
        if match:
            g = match.groupdict()
            year = int(g["Y"]) if g.get("Y") else 2000 + int(g["y"])
            return datetime.date(year, int(g["m"]), 1)
    raise ValueError


def _footer(text: str, layout: Layout, summary: Summary, line_no: int) -> None:
    if summary.footer_count is not None:
        summary.add_error(f"Строка {line_no}: вторая итоговая строка.")
        return
    fields = [f.strip() for f in text[len(layout.footer_prefix) :].split(layout.delimiter)]
    fields = [f for f in fields if f]
    count = fields[0] if fields else ""
    amount = parse_amount(fields[1]) if len(fields) > 1 else None
    if not count.isdigit() or amount is None:
        summary.add_error(
            f"Строка {line_no}: итоговая строка должна содержать число платежей и общую сумму "
            f"(например «{layout.footer_prefix}3{layout.delimiter}4500.00»)."
        )
        summary.footer_count = -1
        return
    summary.footer_count = int(count)
    summary.footer_amount_kopecks = amount


class LineReader:
    """The rules for one line at a time: the reference, and the fallback of the block reader.

    Keeps the state a file needs across lines (the summary line seen, lines after it).
    """

    def __init__(self, layout: Layout, summary: Summary):
        cols = layout.columns
        self.layout = layout
        self.summary = summary
        self.need = max(cols.values()) + 1
        self.i_paid, self.i_acc, self.i_amount = cols["paid_at"], cols["account"], cols["amount"]
        self.i_time = cols.get("paid_time")
        self.i_op, self.i_payer = cols.get("operation_id"), cols.get("payer")
        self.i_addr, self.i_month = cols.get("address"), cols.get("month")
        self.i_comm = cols.get("commission")
        self.dates = _DateParser(layout.date_format, layout.timezone)
        self.months: dict[str, datetime.date | None] = {"": None}
        self.closed = False
        self.bounds = layout.bounds
        if self.bounds is not None:
            self.max_kopecks = int(self.bounds.max_amount * 100)

    def read(self, line: str, line_no: int) -> Row | None:
        """The normalized row of a payment line; None for any other line or a bad one."""
        layout, summary = self.layout, self.summary
        if line_no <= layout.header_lines or not line.strip():
            return None
        prefix, delimiter = layout.footer_prefix, layout.delimiter
        add_error = summary.add_error
        if prefix and line.startswith(prefix):
            _footer(line, layout, summary, line_no)
            # A summary before any payment is a header; after payments it ends the file.
            self.closed = self.closed or summary.lines > 0 or summary.error_count > 0
            return None
        if self.closed:
            add_error(f"Строка {line_no}: платёж после итоговой строки.")
            return None
        f = line.split(delimiter)
        if len(f) < self.need:
            add_error(
                f"Строка {line_no}: полей {len(f)}, а по настройке банка нужно не меньше "
                f"{self.need} (разделитель «{delimiter}»)."
            )
            return None
        summary.lines += 1
        ok = True
        i_amount, i_comm, i_time, i_month = self.i_amount, self.i_comm, self.i_time, self.i_month
        amount = parse_amount(f[i_amount])
        if amount is None or amount <= 0:
            add_error(
                f"Строка {line_no}: неверная сумма «{f[i_amount].strip()}» — нужно "
                f"положительное число с не более чем двумя знаками после запятой."
            )
            ok = False
            amount = 0
        elif self.bounds is not None and amount > self.max_kopecks:
            add_error(
                f"Строка {line_no}: "
                + amount_problem(Decimal(amount).scaleb(-2), self.bounds, what="Сумма платежа")
            )
            ok = False
        summary.amount_kopecks += amount
        commission = 0
        if i_comm is not None and f[i_comm].strip():
            commission = parse_amount(f[i_comm])
            if commission is None:
                add_error(f"Строка {line_no}: неверная комиссия «{f[i_comm].strip()}».")
                ok = False
                commission = 0
            summary.commission_kopecks += commission
        when = f[self.i_paid].strip()
        if i_time is not None:
            when = f"{when} {f[i_time].strip()}"
        try:
            local = self.dates.local(when)
        except ValueError:
            add_error(f"Строка {line_no}: неверная дата «{when}» — ожидается {self.dates.human}.")
            ok = False
        else:
            problem = self.bounds and date_problem(local, self.bounds, what="Дата платежа")
            if problem:
                add_error(f"Строка {line_no}: {problem}")
                ok = False
        account = f[self.i_acc].strip()
        if not account:
            add_error(f"Строка {line_no}: не указан номер лицевого счёта.")
            ok = False
        elif len(account) > ACCOUNT_MAX:
            add_error(f"Строка {line_no}: номер лицевого счёта длиннее {ACCOUNT_MAX} знаков.")
            ok = False
        for_month = None
        if i_month is not None:
            month_text = f[i_month].strip()
            try:
                for_month = self.months[month_text]
            except KeyError:
                try:
                    for_month = parse_month(month_text)
                except ValueError:
                    add_error(
                        f"Строка {line_no}: неверный месяц оплаты «{month_text}» — "
                        f"ожидается ММГГГГ, ММ.ГГГГ или ММГГ."
                    )
                    ok = False
                self.months[month_text] = for_month
        if not ok:
            return None
        op = f[self.i_op].strip() if self.i_op is not None else ""
        key = op or f"{local:%Y%m%d%H%M%S}|{account}|{money_text(amount)}"
        if len(key) > KEY_MAX:
            add_error(f"Строка {line_no}: номер операции длиннее {KEY_MAX} знаков.")
            return None
        i_payer, i_addr = self.i_payer, self.i_addr
        return Row(
            line_no,
            key,
            account,
            f[i_payer].strip()[:160] if i_payer is not None else "",
            f[i_addr].strip()[:255] if i_addr is not None else "",
            self.dates.to_utc(local),
            local.date(),
            amount,
            commission,
            for_month,
        )


def _decode_refusal(encoding: str, line_no: int, summary: Summary) -> RegistryError:
    return RegistryError(
        f"Файл не читается в кодировке {ENCODING_NAMES.get(encoding, encoding)} (около "
        f"строки {line_no}): файл повреждён или в другой кодировке. Проверьте настройку "
        f"кодировки банка.",
        summary.errors,
        summary.error_count,
    )


def _open_text(stream: BinaryIO, layout: Layout, summary: Summary) -> tuple[bytes, str]:
    """Check the layout, read the sample and choose the encoding (or refuse the file)."""
    check_layout(layout)
    sample = stream.read(SAMPLE_BYTES)
    if not sample.strip():
        raise RegistryError("Файл пустой: в нём нет ни одной строки.")
    encoding = choose_encoding(sample, layout.encoding)
    summary.encoding = encoding
    return sample, encoding


def iter_batches(
    stream: BinaryIO, layout: Layout, *, batch_size: int = 50_000, summary: Summary
) -> Iterator[list[Row]]:
    """Yield batches of valid rows, one line at a time; errors and the footer go into `summary`.

    The caller decides what to do with errors (the import refuses the whole file); parsing goes
    on after an error so that the report lists every bad line at once.
    """
    sample, encoding = _open_text(stream, layout, summary)
    rest = io.BufferedReader(_Prefixed(sample, stream), buffer_size=1 << 20)
    text = io.TextIOWrapper(rest, encoding=encoding, errors="strict", newline=None)
    reader = LineReader(layout, summary)
    batch: list[Row] = []
    line_no = 0
    try:
        for raw in text:
            line_no += 1
            row = reader.read(raw.rstrip("\r\n"), line_no)
            if row is not None:
                batch.append(row)
                if len(batch) >= batch_size:
                    yield batch
                    batch = []
    except UnicodeDecodeError as exc:
        raise _decode_refusal(encoding, line_no + 1, summary) from exc
    if batch:
        yield batch


# --- blocks -----------------------------------------------------------------------------------

CHUNK_BYTES = 4 * 1024 * 1024
# Fixed-width forms of the date directives, with their ranges; a day of 29–31 is checked apart.
FIXED = {
    "d": ("0[1-9]|[12][0-9]|3[01]", 2),
    "m": ("0[1-9]|1[0-2]", 2),
    "Y": ("[1-9][0-9]{3}", 4),
    "y": ("[0-9]{2}", 2),
    "H": ("[01][0-9]|2[0-3]", 2),
    "M": ("[0-5][0-9]", 2),
    "S": ("[0-5][0-9]", 2),
}
# Positive amounts in their usual form (no leading zeros, two decimals); others go line by line.
AMOUNT_FAST = r"(?:[1-9][0-9]{0,11}\.[0-9]{2}|0\.(?:0[1-9]|[1-9][0-9]))"
COMMISSION_FAST = r"(?:(?:[1-9][0-9]{0,11}|0)\.[0-9]{2})?"
IMPOSSIBLE_DAY = re.compile(r"-(?:02-3[01]|0[469]-31|11-31) ")
FEBRUARY_29 = re.compile(r"([0-9]{4})-02-29 ")
OFFSET_SPAN = datetime.timedelta(days=93)


def _column_pattern(item: str) -> re.Pattern:
    """A pattern for a whole column: the items joined by line breaks."""
    return re.compile(f"(?:{item}\n)*{item}")


def _offset_text(offset: datetime.timedelta) -> str:
    seconds = int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}"
    return text + (f":{seconds:02d}" if seconds else "")


@dataclass
class Block:
    """Normalized payment lines, column by column, as text ready for the database.

    `paid_at` is the time as written ("2026-11-03 12:00:00") and `offsets` its UTC offset
    ("+03:00"); amounts are "1234.56", months "2026-10-01" or None; `numbers` are the account
    numbers as in the file.
    """

    line_nos: list[int] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    payers: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    paid_at: list[str] = field(default_factory=list)
    offsets: list[str] = field(default_factory=list)
    amounts: list[str] = field(default_factory=list)
    commissions: list[str] = field(default_factory=list)
    months: list[str | None] = field(default_factory=list)
    escape: bool = False  # some text has a backslash or a tab (COPY must escape them)

    COLUMNS = (
        "line_nos",
        "keys",
        "numbers",
        "payers",
        "addresses",
        "paid_at",
        "offsets",
        "amounts",
        "commissions",
        "months",
    )

    def __len__(self) -> int:
        return len(self.keys)

    def extend(self, other: "Block") -> None:
        for name in self.COLUMNS:
            getattr(self, name).extend(getattr(other, name))

    def add_row(self, row: Row) -> None:
        self.line_nos.append(row.line_no)
        self.keys.append(row.natural_key)
        self.numbers.append(row.account_number)
        self.payers.append(row.payer_name)
        self.addresses.append(row.address)
        self.paid_at.append(f"{row.paid_at_utc:%Y-%m-%d %H:%M:%S}")
        self.offsets.append("+00:00")
        self.amounts.append(money_text(row.amount_kopecks))
        self.commissions.append(money_text(row.commission_kopecks))
        self.months.append(row.for_month.isoformat() if row.for_month else None)


class _FastColumns:
    """Checks and normalizes a run of ordinary lines column by column, or declines (None).

    It accepts only what `LineReader` accepts and gives the same values; whatever it declines is
    read line by line.
    """

    def __init__(self, layout: Layout, summary: Summary):
        cols = layout.columns
        self.summary = summary
        self.tz = zoneinfo.ZoneInfo(layout.timezone)
        self.offsets: dict[str, str] = {}
        self.constant: dict[tuple, str | None] = {}
        self.months: dict[str, str | None] = {"": None}
        self.cols = cols
        self.bounds = layout.bounds
        if self.bounds is not None:
            self.earliest = f"{self.bounds.earliest:%Y-%m-%d}"
            self.latest = f"{self.bounds.latest:%Y-%m-%d} 99"
            self.max_kopecks = int(self.bounds.max_amount * 100)
        self.amounts = _column_pattern(AMOUNT_FAST)
        self.commissions = _column_pattern(COMMISSION_FAST)
        self.dates = self._date_plan(layout.date_format)

    def _date_plan(self, date_format: str):
        """The column pattern of a fixed-width date format, its width, and where each character
        of the ISO form and of the key stamp comes from (a position in the text, or a constant).
        None when the format has other directives: such dates are read line by line."""
        pattern, pos, width = "", 0, 0
        starts: dict[str, int] = {}
        for match in re.finditer(r"%(.)", date_format):
            literal = date_format[pos : match.start()]
            directive = match.group(1)
            if directive not in FIXED or directive in starts or "\n" in literal:
                return None
            pattern += re.escape(literal)
            width += len(literal)
            item, size = FIXED[directive]
            pattern += f"(?:{item})"
            starts[directive] = width
            width += size
            pos = match.end()
        literal = date_format[pos:]
        if "\n" in literal or "%" in literal or ("Y" in starts and "y" in starts):
            return None
        pattern += re.escape(literal)
        width += len(literal)

        def two(directive: str, default: str) -> list:
            at = starts.get(directive)
            return list(default) if at is None else [at, at + 1]

        if "Y" in starts:
            year = [starts["Y"] + i for i in range(4)]
        elif "y" in starts:
            year = ["2", "0", *two("y", "00")]
        else:
            year = list("2000")
        month, day = two("m", "01"), two("d", "01")
        hour, minute, second = two("H", "00"), two("M", "00"), two("S", "00")
        iso = [*year, "-", *month, "-", *day, " ", *hour, ":", *minute, ":", *second]
        stamp = [*year, *month, *day, *hour, *minute, *second]
        return _column_pattern(pattern), width, iso, stamp

    def _offset(self, hour: str) -> str:
        """The UTC offset of a local hour "YYYY-MM-DD HH" (the earlier one when ambiguous)."""
        offset = self.offsets.get(hour)
        if offset is None:
            local = datetime.datetime(
                int(hour[:4]), int(hour[5:7]), int(hour[8:10]), int(hour[11:13]), tzinfo=self.tz
            )
            offset = _offset_text(local.utcoffset())
            self.offsets[hour] = offset
        return offset

    def _one_offset(self, low: str, high: str) -> str | None:
        """The offset if it is the same for every hour from `low` to `high`, else None."""
        key = (low[:13], high[:13])
        if key in self.constant:
            return self.constant[key]
        start = datetime.datetime.fromisoformat(low[:13] + ":00")
        end = datetime.datetime.fromisoformat(high[:13] + ":00")
        found = None
        if end - start <= OFFSET_SPAN:
            found = self._offset(low[:13])
            hour = start
            while hour <= end:
                if self._offset(f"{hour:%Y-%m-%d %H}") != found:
                    found = None
                    break
                hour += datetime.timedelta(hours=1)
        self.constant[key] = found
        return found

    def read(self, column, n: int, first_no: int) -> Block | None:
        """`column(i)` gives the texts of the file's column i for the run's `n` lines."""
        cols = self.cols
        amounts = "\n".join(column(cols["amount"]))
        replaced = "," in amounts
        if replaced:
            amounts = amounts.replace(",", ".")
        if not self.amounts.fullmatch(amounts):
            return None
        if "commission" in cols:
            commissions = "\n".join(column(cols["commission"]))
            if "," in commissions:
                commissions = commissions.replace(",", ".")
            if not self.commissions.fullmatch(commissions):
                return None
        if self.dates is None:
            return None
        pattern, width, iso_chars, stamp_chars = self.dates
        when = column(cols["paid_at"])
        if "paid_time" in cols:
            when = interleave([when, column(cols["paid_time"])], " ", "\n")[:-1].split("\n")
        dates = "\n".join(when)
        if not pattern.fullmatch(dates):
            return None
        dates += "\n"  # n records of width + 1 characters: characters are taken by slicing
        iso_text = _characters(dates, n, width + 1, iso_chars)
        if IMPOSSIBLE_DAY.search(iso_text):
            return None
        for leap in FEBRUARY_29.finditer(iso_text):
            if not calendar.isleap(int(leap.group(1))):
                return None
        iso = iso_text[:-1].split("\n")
        if self.bounds is not None and (min(iso) < self.earliest or max(iso) > self.latest):
            return None  # out of range: read line by line, for the message
        numbers = list(map(str.strip, column(cols["account"])))
        if min(map(len, numbers)) == 0 or max(map(len, numbers)) > ACCOUNT_MAX:
            return None
        keys = None
        if "operation_id" in cols:
            keys = list(map(str.strip, column(cols["operation_id"])))
            if max(map(len, keys)) > KEY_MAX:
                return None
        months = [None] * n
        if "month" in cols:
            texts = list(map(str.strip, column(cols["month"])))
            known = self.months
            for text in set(texts).difference(known):
                try:
                    known[text] = parse_month(text).isoformat()
                except ValueError:
                    return None
            months = list(map(known.__getitem__, texts))
        # Every check passed: the lines count, and the columns are built.
        amount_list = amounts.split("\n") if replaced else column(cols["amount"])
        kopecks = list(map(int, amounts.replace(".", "").split("\n")))
        if self.bounds is not None and max(kopecks) > self.max_kopecks:
            return None  # out of range: read line by line, for the message
        summary = self.summary
        summary.lines += n
        summary.amount_kopecks += sum(kopecks)
        if "commission" in cols:
            commission_list = commissions.split("\n")
            summary.commission_kopecks += sum(
                map(int, filter(None, commissions.replace(".", "").split("\n")))
            )
            if "" in commission_list:
                commission_list = [text or "0.00" for text in commission_list]
        else:
            commission_list = ["0.00"] * n
        if keys is None or not all(keys):
            stamps = _characters(dates, n, width + 1, stamp_chars)[:-1].split("\n")
            keys = [
                op or f"{stamp}|{number}|{amount}"
                for op, stamp, number, amount in zip(
                    keys or repeat("", n), stamps, numbers, amount_list, strict=False
                )
            ]
        offset = self._one_offset(min(iso), max(iso))
        offsets = [offset] * n if offset else [self._offset(text[:13]) for text in iso]
        block = Block(
            line_nos=list(range(first_no, first_no + n)),
            keys=keys,
            numbers=numbers,
            paid_at=iso,
            offsets=offsets,
            amounts=amount_list,
            commissions=commission_list,
            months=months,
        )
        for name, attr, limit in (("payer", "payers", 160), ("address", "addresses", 255)):
            if name in cols:
                texts = list(map(str.strip, column(cols[name])))
                if max(map(len, texts)) > limit:
                    texts = [text[:limit] for text in texts]
            else:
                texts = [""] * n
            setattr(block, attr, texts)
        return block


def _characters(records: str, n: int, width: int, sources: list) -> str:
    """Rebuild n fixed-width records character by character: each source is a position in the
    record or a constant character; the results end with a line break each."""
    size = len(sources) + 1
    out = ["\n"] * (size * n)
    for p, source in enumerate(sources):
        out[p::size] = records[source::width] if isinstance(source, int) else [source] * n
    return "".join(out)


def interleave(columns: list[list[str]], sep: str, end: str) -> str:
    """Rows of text from columns of equal length: the values of a row joined by `sep`, each
    row ended by `end` — built with slice assignments, without an object per row."""
    k, n = len(columns), len(columns[0])
    out = [sep] * (2 * k * n)
    for j, col in enumerate(columns):
        out[2 * j :: 2 * k] = col
    out[2 * k - 1 :: 2 * k] = [end] * n
    return "".join(out)


def _lines(stream: BinaryIO, sample: bytes, encoding: str, summary: Summary):
    """Yield (first line number, text, lines, has backslash or tab) per chunk of whole lines.

    Line breaks are the universal ones (\\n, \\r\\n, \\r), as the reference reader sees them.
    """
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    pending = ""
    line_no = 0
    data = sample
    final = False
    while True:
        if not data:
            final = True
        try:
            text = decoder.decode(data, final=final)
        except UnicodeDecodeError as exc:
            at = line_no + data[: exc.start].count(b"\n") + 1
            raise _decode_refusal(encoding, at, summary) from exc
        text = pending + text
        if "\x00" in text:
            raise RegistryError(
                "Файл не похож на текстовый реестр (в нём есть нулевые байты — возможно, это "
                "Excel, архив или UTF-16). Нужен текстовый файл с разделителем «;»."
            )
        hold = ""
        if not final and text.endswith("\r"):
            hold, text = "\r", text[:-1]  # it may be the first half of \r\n
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if final:
            lines = text.split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            if lines:
                yield line_no + 1, "\n".join(lines), lines, "\\" in text or "\t" in text
            return
        cut = text.rfind("\n")
        if cut < 0:
            pending = text + hold
        else:
            pending = text[cut + 1 :] + hold
            body = text[:cut]
            lines = body.split("\n")
            yield line_no + 1, body, lines, "\\" in body or "\t" in body
            line_no += len(lines)
        data = stream.read(CHUNK_BYTES)


def _pieces(chunks, block_lines: int | None):
    for first_no, text, lines, escape in chunks:
        if not block_lines or len(lines) <= block_lines:
            yield first_no, text, lines, escape
            continue
        for start in range(0, len(lines), block_lines):
            part = lines[start : start + block_lines]
            yield first_no + start, "\n".join(part), part, escape


def read_blocks(
    stream: BinaryIO, layout: Layout, *, summary: Summary, block_lines: int | None = None
) -> Iterator[Block]:
    """Yield one block of valid rows per chunk of the file (a few MB, at most `block_lines`
    lines); the rules are those of `LineReader`."""
    sample, encoding = _open_text(stream, layout, summary)
    if encoding == "utf-8-sig":
        sample = sample[len(codecs.BOM_UTF8) :]
        encoding = "utf-8"
    reader = LineReader(layout, summary)
    fast = _FastColumns(layout, summary)
    need, delimiter = reader.need, layout.delimiter
    prefix, header = layout.footer_prefix, layout.header_lines
    count = methodcaller("count", delimiter)
    for first_no, text, lines, escape in _pieces(
        _lines(stream, sample, encoding, summary), block_lines
    ):
        block = Block(escape=escape)
        counts = list(map(count, lines))
        # Runs of plain lines with the same number of fields; every other line alone.
        special = set()
        if first_no <= header:
            special.update(range(min(header - first_no + 1, len(lines))))
        if prefix and (text.startswith(prefix) or "\n" + prefix in text):
            special.update(i for i, line in enumerate(lines) if line.startswith(prefix))
        if min(counts) + 1 < need:
            special.update(i for i, n in enumerate(counts) if n + 1 < need)
        start = 0
        while start < len(lines):
            if start in special:
                row = reader.read(lines[start], first_no + start)
                if row is not None:
                    block.add_row(row)
                start += 1
                continue
            width = counts[start]
            if not special and start == 0 and min(counts) == max(counts):
                stop, run = len(lines), text  # the usual case: the whole chunk is one run
            else:
                stop = start + 1
                while stop < len(lines) and counts[stop] == width and stop not in special:
                    stop += 1
                run = "\n".join(lines[start:stop])
            part = None
            if not reader.closed:
                flat = run.replace("\n", delimiter).split(delimiter)
                step = width + 1

                def column(i, flat=flat, step=step):
                    return flat[i::step]

                part = fast.read(column, stop - start, first_no + start)
            if part is None:
                for i in range(start, stop):
                    row = reader.read(lines[i], first_no + i)
                    if row is not None:
                        block.add_row(row)
            else:
                block.extend(part)
            start = stop
        yield block


def check_totals(summary: Summary, layout: Layout) -> None:
    """After the last batch: any line error or a footer mismatch refuses the whole file."""
    if summary.error_count:
        raise RegistryError(
            f"Файл отклонён: ошибок в строках — {summary.error_count}. Ничего не загружено; "
            f"исправьте файл и загрузите его снова.",
            summary.errors,
            summary.error_count,
        )
    if layout.footer_prefix:
        if summary.footer_count is None:
            raise RegistryError(
                f"В файле нет итоговой строки (начинается с «{layout.footer_prefix}») с числом "
                f"платежей и суммой: файл мог быть обрезан. Ничего не загружено."
            )
        if summary.footer_count != summary.lines:
            raise RegistryError(
                f"Число платежей в файле ({summary.lines}) не совпадает с итоговой строкой "
                f"({summary.footer_count}). Ничего не загружено."
            )
        if summary.footer_amount_kopecks != summary.amount_kopecks:
            raise RegistryError(
                f"Сумма платежей в файле ({money_text(summary.amount_kopecks)} ₽) не совпадает с "
                f"итоговой строкой ({money_text(summary.footer_amount_kopecks or 0)} ₽). "
                f"Ничего не загружено."
            )
    if not summary.lines and not layout.footer_prefix:
        raise RegistryError("В файле нет ни одного платежа.")


class _Prefixed(io.RawIOBase):
    """The already-read sample followed by the rest of the stream, as one raw stream."""

    def __init__(self, head: bytes, stream: BinaryIO):
        self.head = memoryview(head)
        self.stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
