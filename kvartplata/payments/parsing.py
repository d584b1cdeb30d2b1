"""Pure reader of a bank's payment registry file: encoding, per-bank columns, footer check.

No ORM and no clock: a layout (with the organization's bounds) and a byte stream go in,
normalized rows and a summary come out. Everything is streamed, so memory is bounded by one
block whatever the file's size. Messages are for people and in Russian.

One reader, `read_blocks`: it decodes big chunks, sets aside the lines that are not payments
(titles, blanks, the summary, short lines) and checks the payment lines of a chunk column by
column (`_Rules`, the one implementation of every rule and message): a column is checked whole
with one compiled pattern where it can be, and item by item where that finds something else, to
name each wrong line.
"""

import calendar
import codecs
import datetime
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
# Amounts as banks usually write them ("1234.56": no spaces, no leading zeros, two decimals):
# such a column is read whole, and the text is already what `money_text` would give.
CANONICAL_AMOUNTS = re.compile(
    r"(?:(?:[1-9][0-9]{0,11}|0)\.[0-9]{2}\n)*(?:[1-9][0-9]{0,11}|0)\.[0-9]{2}"
)
CANONICAL_COMMISSIONS = re.compile(
    r"(?:(?:(?:[1-9][0-9]{0,11}|0)\.[0-9]{2})?\n)*(?:(?:[1-9][0-9]{0,11}|0)\.[0-9]{2})?"
)
_NO_DATE = ""  # the local time of a line whose date is wrong
_BAD_MONTH = "bad"  # (not an ISO date) the month of a line whose month is wrong
_DIGITS_ONLY = str.maketrans("", "", "-: ")
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

    def only(self, indexes: list[int]) -> "Block":
        """The block's lines at these positions."""
        part = Block(escape=self.escape)
        for name in self.COLUMNS:
            values = getattr(self, name)
            setattr(part, name, [values[i] for i in indexes])
        return part


class _Rules:
    """The rules of one bank's payment lines, applied to a run of lines column by column.

    The one implementation of every check and message. Each column is checked whole where it
    can be (one compiled pattern over the column's text, C speed); where that finds something
    else, the same rule is applied item by item to tell which lines are wrong and why.
    """

    def __init__(self, layout: Layout, summary: Summary):
        cols = layout.columns
        self.cols = cols
        self.summary = summary
        self.need = max(cols.values()) + 1
        self.dates = _DateParser(layout.date_format, layout.timezone)
        self.plan = self._date_plan(layout.date_format)
        self.tz = self.dates.tz
        self.offsets: dict[str, str] = {}
        self.constant: dict[tuple, str | None] = {}
        self.months: dict[str, str | None] = {"": None}
        self.closed = False
        self.bounds = layout.bounds
        if self.bounds is not None:
            self.earliest = _iso_day(self.bounds.earliest)
            self.latest = _iso_day(self.bounds.latest) + " 99"
            self.max_kopecks = int(self.bounds.max_amount * 100)

    # --- lines that are not payments --------------------------------------------------------

    def other_line(self, line: str, line_no: int, layout: Layout) -> None:
        """A title, blank, summary or short line (or a payment after the summary)."""
        summary = self.summary
        if line_no <= layout.header_lines or not line.strip():
            return
        prefix = layout.footer_prefix
        if prefix and line.startswith(prefix):
            _footer(line, layout, summary, line_no)
            # A summary before any payment is a header; after payments it ends the file.
            self.closed = self.closed or summary.lines > 0 or summary.error_count > 0
            return
        if self.closed:
            summary.add_error(f"Строка {line_no}: платёж после итоговой строки.")
            return
        fields = line.count(layout.delimiter) + 1
        summary.add_error(
            f"Строка {line_no}: полей {fields}, а по настройке банка нужно не меньше "
            f"{self.need} (разделитель «{layout.delimiter}»)."
        )

    # --- payment lines ----------------------------------------------------------------------

    def read(self, column, n: int, first_no: int) -> Block:
        """`column(i)` gives the texts of the file's column i for the run's `n` lines; the valid
        lines come back as a block, the others go into the summary's errors."""
        summary = self.summary
        if self.closed:
            for i in range(n):
                summary.add_error(f"Строка {first_no + i}: платёж после итоговой строки.")
            return Block()
        cols = self.cols
        bad: dict[int, list[str]] = {}

        def fail(i: int, message: str) -> None:
            bad.setdefault(i, []).append(f"Строка {first_no + i}: {message}")

        summary.lines += n
        # Amounts: positive, at most two decimals, up to the maximum of one line.
        texts = column(cols["amount"])
        kopecks, canonical = _kopecks(texts)
        too_big = self.max_kopecks if self.bounds is not None else None
        if None in kopecks or min(kopecks) <= 0 or (too_big and max(kopecks) > too_big):
            for i, value in enumerate(kopecks):
                if value is None or value <= 0:
                    fail(
                        i,
                        f"неверная сумма «{texts[i].strip()}» — нужно положительное число с не "
                        f"более чем двумя знаками после запятой.",
                    )
                elif too_big and value > too_big:
                    amount = Decimal(value).scaleb(-2)
                    fail(i, amount_problem(amount, self.bounds, what="Сумма платежа"))
            summary.amount_kopecks += sum(value for value in kopecks if value)
        else:
            summary.amount_kopecks += sum(kopecks)
        amounts = texts if canonical else [money_text(value or 0) for value in kopecks]
        # Commission: optional, else like an amount (zero allowed).
        if "commission" in cols:
            texts = column(cols["commission"])
            commission, canonical = _kopecks(texts, optional=True)
            if None in commission:
                for i, value in enumerate(commission):
                    if value is None:
                        fail(i, f"неверная комиссия «{texts[i].strip()}».")
            summary.commission_kopecks += sum(value for value in commission if value)
            commissions = (
                [text or "0.00" for text in texts]
                if canonical
                else [money_text(value or 0) for value in commission]
            )
        else:
            commissions = ["0.00"] * n
        # The moment of payment: the bank's format, local time, within the organization's dates.
        iso, stamps, offsets = self._moments(column, n, fail)
        # The account number.
        numbers = list(map(str.strip, column(cols["account"])))
        lengths = list(map(len, numbers))
        if min(lengths) == 0 or max(lengths) > ACCOUNT_MAX:
            for i, length in enumerate(lengths):
                if length == 0:
                    fail(i, "не указан номер лицевого счёта.")
                elif length > ACCOUNT_MAX:
                    fail(i, f"номер лицевого счёта длиннее {ACCOUNT_MAX} знаков.")
        # The month paid for.
        months: list[str | None] = [None] * n
        if "month" in cols:
            texts = list(map(str.strip, column(cols["month"])))
            known = self.months
            for text in set(texts).difference(known):
                try:
                    known[text] = parse_month(text).isoformat()
                except ValueError:
                    known[text] = _BAD_MONTH
            months = list(map(known.__getitem__, texts))
            if _BAD_MONTH in months:
                for i, month in enumerate(months):
                    if month is _BAD_MONTH:
                        fail(
                            i,
                            f"неверный месяц оплаты «{texts[i]}» — ожидается ММГГГГ, ММ.ГГГГ "
                            f"или ММГГ.",
                        )
        # The natural key: the bank's operation number, else date, account and amount.
        ops = list(map(str.strip, column(cols["operation_id"]))) if "operation_id" in cols else None
        if ops is not None and all(ops):
            keys = ops
        else:
            keys = [
                op or f"{stamp}|{number}|{amount}"
                for op, stamp, number, amount in zip(
                    ops or repeat("", n), stamps, numbers, amounts, strict=True
                )
            ]
        if max(map(len, keys)) > KEY_MAX:
            for i, key in enumerate(keys):
                if len(key) > KEY_MAX and i not in bad:
                    fail(i, f"номер операции длиннее {KEY_MAX} знаков.")
        texts_of = {}
        for name, limit in (("payer", 160), ("address", 255)):
            if name in cols:
                texts = list(map(str.strip, column(cols[name])))
                if max(map(len, texts)) > limit:
                    texts = [text[:limit] for text in texts]
            else:
                texts = [""] * n
            texts_of[name] = texts
        block = Block(
            line_nos=list(range(first_no, first_no + n)),
            keys=keys,
            numbers=numbers,
            payers=texts_of["payer"],
            addresses=texts_of["address"],
            paid_at=iso,
            offsets=offsets,
            amounts=amounts,
            commissions=commissions,
            months=months,
        )
        if not bad:
            return block
        for i in sorted(bad):
            for message in bad[i]:
                summary.add_error(message)
        good = [i for i in range(n) if i not in bad]
        return block.only(good)

    def _moments(self, column, n: int, fail):
        """Local times "YYYY-MM-DD HH:MM:SS", key stamps and UTC offsets of a run of lines
        ("" for a line whose date is wrong)."""
        cols = self.cols
        days = column(cols["paid_at"])
        times = column(cols["paid_time"]) if "paid_time" in cols else None
        iso = stamps = None
        if self.plan is not None:
            pattern, width, iso_chars, stamp_chars = self.plan
            when = days if times is None else interleave([days, times], " ", "\n")[:-1].split("\n")
            dates = "\n".join(when)
            if pattern.fullmatch(dates):
                dates += "\n"  # n records of width + 1 characters: taken by slicing
                iso_text = _characters(dates, n, width + 1, iso_chars)
                if not IMPOSSIBLE_DAY.search(iso_text) and all(
                    calendar.isleap(int(leap.group(1))) for leap in FEBRUARY_29.finditer(iso_text)
                ):
                    iso = iso_text[:-1].split("\n")
                    stamps = _characters(dates, n, width + 1, stamp_chars)[:-1].split("\n")
        if iso is None:  # some date is written otherwise: each one through the bank's format
            iso, stamps = [], []
            for i, day in enumerate(days):
                text = day.strip() if times is None else f"{day.strip()} {times[i].strip()}"
                try:
                    local = self.dates.local(text)
                except ValueError:
                    fail(i, f"неверная дата «{text}» — ожидается {self.dates.human}.")
                    iso.append(_NO_DATE)
                    stamps.append("")
                    continue
                iso.append(_iso_moment(local))
                stamps.append(iso[-1].translate(_DIGITS_ONLY))
        dated = [text for text in iso if text] if _NO_DATE in iso else iso
        bounds = self.bounds
        if (
            bounds is not None
            and dated
            and (min(dated) < self.earliest or max(dated) > self.latest)
        ):
            for i, text in enumerate(iso):
                if text and not self.earliest <= text <= self.latest:
                    day = datetime.date(int(text[:4]), int(text[5:7]), int(text[8:10]))
                    fail(i, date_problem(day, bounds, what="Дата платежа"))
            dated = [text for text in dated if self.earliest <= text <= self.latest]
        if not dated:
            return iso, stamps, ["+00:00"] * n
        offset = self._one_offset(min(dated), max(dated))
        if offset:
            return iso, stamps, [offset] * n
        offsets = [self._offset(text[:13]) if text else "+00:00" for text in iso]
        return iso, stamps, offsets

    def _date_plan(self, date_format: str):
        """The column pattern of a fixed-width date format, its width, and where each character
        of the ISO form and of the key stamp comes from (a position in the text, or a constant).
        None when the format has other directives: such dates are parsed one at a time."""
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


def _kopecks(texts: list[str], *, optional: bool = False) -> tuple[list[int | None], bool]:
    """Amounts in kopecks (None where `parse_amount` refuses; 0 for an empty optional one) and
    whether the texts are already in the canonical form."""
    joined = "\n".join(texts)
    pattern = CANONICAL_COMMISSIONS if optional else CANONICAL_AMOUNTS
    if pattern.fullmatch(joined):
        if optional and "" in texts:
            return [int(text.replace(".", "")) if text else 0 for text in texts], True
        return list(map(int, joined.replace(".", "").split("\n"))), True
    if optional:
        return [parse_amount(text) if text.strip() else 0 for text in texts], False
    return list(map(parse_amount, texts)), False


def _iso_day(day: datetime.date) -> str:
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


def _iso_moment(moment: datetime.datetime) -> str:
    return f"{_iso_day(moment)} {moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"


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

    Line breaks are the universal ones (\\n, \\r\\n, \\r), as in a text file.
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
    lines); errors and the footer go into `summary`.

    The caller decides what to do with errors (the import refuses the whole file); reading goes
    on after an error so that the report lists every bad line at once.
    """
    sample, encoding = _open_text(stream, layout, summary)
    if encoding == "utf-8-sig":
        sample = sample[len(codecs.BOM_UTF8) :]
        encoding = "utf-8"
    rules = _Rules(layout, summary)
    need, delimiter = rules.need, layout.delimiter
    prefix, header = layout.footer_prefix, layout.header_lines
    count = methodcaller("count", delimiter)
    for first_no, text, lines, escape in _pieces(
        _lines(stream, sample, encoding, summary), block_lines
    ):
        block = Block(escape=escape)
        counts = list(map(count, lines))
        # Runs of payment lines with the same number of fields; every other line alone.
        special = set()
        if first_no <= header:
            special.update(range(min(header - first_no + 1, len(lines))))
        if prefix and (text.startswith(prefix) or "\n" + prefix in text):
            special.update(i for i, line in enumerate(lines) if line.startswith(prefix))
        if min(counts) + 1 < need:
            special.update(i for i, n in enumerate(counts) if n + 1 < need)
        if need <= 1:
            special.update(i for i, line in enumerate(lines) if not line.strip())
        start = 0
        while start < len(lines):
            if start in special:
                rules.other_line(lines[start], first_no + start, layout)
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
            flat = run.replace("\n", delimiter).split(delimiter)
            step = width + 1

            def column(i, flat=flat, step=step):
                return flat[i::step]

            block.extend(rules.read(column, stop - start, first_no + start))
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
