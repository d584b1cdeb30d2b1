"""Pure parser of a bank's payment registry file: encoding, per-bank columns, footer check.

No ORM and no clock: a layout and a byte stream go in, batches of normalized rows and a summary
come out. Everything is streamed, so memory is bounded by one batch whatever the file's size.
Messages are for people and in Russian.
"""

import codecs
import datetime
import io
import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

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
AMOUNT_RE = re.compile(r"(\d{1,12})(?:[.,](\d{1,2}))?")
ACCOUNT_MAX = 40
KEY_MAX = 160
DIRECTIVES = {
    "d": r"(?P<d>\d{1,2})",
    "m": r"(?P<m>\d{1,2})",
    "Y": r"(?P<Y>\d{4})",
    "y": r"(?P<y>\d{2})",
    "H": r"(?P<H>\d{1,2})",
    "M": r"(?P<M>\d{1,2})",
    "S": r"(?P<S>\d{1,2})",
}
HUMAN_DIRECTIVES = {"d": "ДД", "m": "ММ", "Y": "ГГГГ", "y": "ГГ", "H": "чч", "M": "мм", "S": "сс"}
MONTH_FORMATS = (
    re.compile(r"(?P<m>\d{1,2})[./\-](?P<Y>\d{4})"),  # 03.2026, 3/2026
    re.compile(r"(?P<Y>\d{4})[./\-](?P<m>\d{1,2})"),  # 2026-03
    re.compile(r"(?P<m>\d{2})(?P<Y>\d{4})"),  # 032026
    re.compile(r"(?P<m>\d{2})(?P<y>\d{2})"),  # 0326
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


def iter_batches(
    stream: BinaryIO, layout: Layout, *, batch_size: int = 50_000, summary: Summary
) -> Iterator[list[Row]]:
    """Yield batches of valid rows; line errors and the footer go into `summary`.

    The caller decides what to do with errors (the import refuses the whole file); parsing goes
    on after an error so that the report lists every bad line at once.
    """
    check_layout(layout)
    sample = stream.read(SAMPLE_BYTES)
    if not sample.strip():
        raise RegistryError("Файл пустой: в нём нет ни одной строки.")
    encoding = choose_encoding(sample, layout.encoding)
    summary.encoding = encoding
    rest = io.BufferedReader(_Prefixed(sample, stream), buffer_size=1 << 20)
    text = io.TextIOWrapper(rest, encoding=encoding, errors="strict", newline=None)
    cols = layout.columns
    need = max(cols.values()) + 1
    i_paid, i_acc, i_amount = cols["paid_at"], cols["account"], cols["amount"]
    i_time = cols.get("paid_time")
    i_op, i_payer, i_addr = cols.get("operation_id"), cols.get("payer"), cols.get("address")
    i_month, i_comm = cols.get("month"), cols.get("commission")
    delimiter, prefix = layout.delimiter, layout.footer_prefix
    dates = _DateParser(layout.date_format, layout.timezone)
    months: dict[str, datetime.date | None] = {"": None}
    batch: list[Row] = []
    line_no = 0
    closed = False
    add_error = summary.add_error
    try:
        for raw in text:
            line_no += 1
            line = raw.rstrip("\r\n")
            if line_no <= layout.header_lines or not line.strip():
                continue
            if prefix and line.startswith(prefix):
                _footer(line, layout, summary, line_no)
                # A summary before any payment is a header; after payments it ends the file.
                closed = closed or summary.lines > 0 or summary.error_count > 0
                continue
            if closed:
                add_error(f"Строка {line_no}: платёж после итоговой строки.")
                continue
            f = line.split(delimiter)
            if len(f) < need:
                add_error(
                    f"Строка {line_no}: полей {len(f)}, а по настройке банка нужно не меньше "
                    f"{need} (разделитель «{delimiter}»)."
                )
                continue
            summary.lines += 1
            ok = True
            amount = parse_amount(f[i_amount])
            if amount is None or amount <= 0:
                add_error(
                    f"Строка {line_no}: неверная сумма «{f[i_amount].strip()}» — нужно "
                    f"положительное число с не более чем двумя знаками после запятой."
                )
                ok = False
                amount = 0
            summary.amount_kopecks += amount
            commission = 0
            if i_comm is not None and f[i_comm].strip():
                commission = parse_amount(f[i_comm])
                if commission is None:
                    add_error(f"Строка {line_no}: неверная комиссия «{f[i_comm].strip()}».")
                    ok = False
                    commission = 0
                summary.commission_kopecks += commission
            when = f[i_paid].strip()
            if i_time is not None:
                when = f"{when} {f[i_time].strip()}"
            try:
                local = dates.local(when)
            except ValueError:
                add_error(f"Строка {line_no}: неверная дата «{when}» — ожидается {dates.human}.")
                ok = False
            account = f[i_acc].strip()
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
                    for_month = months[month_text]
                except KeyError:
                    try:
                        for_month = parse_month(month_text)
                    except ValueError:
                        add_error(
                            f"Строка {line_no}: неверный месяц оплаты «{month_text}» — "
                            f"ожидается ММГГГГ, ММ.ГГГГ или ММГГ."
                        )
                        ok = False
                    months[month_text] = for_month
            if not ok:
                continue
            op = f[i_op].strip() if i_op is not None else ""
            key = op or f"{local:%Y%m%d%H%M%S}|{account}|{money_text(amount)}"
            if len(key) > KEY_MAX:
                add_error(f"Строка {line_no}: номер операции длиннее {KEY_MAX} знаков.")
                continue
            batch.append(
                Row(
                    line_no,
                    key,
                    account,
                    f[i_payer].strip()[:160] if i_payer is not None else "",
                    f[i_addr].strip()[:255] if i_addr is not None else "",
                    dates.to_utc(local),
                    local.date(),
                    amount,
                    commission,
                    for_month,
                )
            )
            if len(batch) >= batch_size:
                yield batch
                batch = []
    except UnicodeDecodeError as exc:
        raise RegistryError(
            f"Файл не читается в кодировке {ENCODING_NAMES.get(encoding, encoding)} (около "
            f"строки {line_no + 1}): файл повреждён или в другой кодировке. Проверьте настройку "
            f"кодировки банка.",
            summary.errors,
            summary.error_count,
        ) from exc
    if batch:
        yield batch


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
