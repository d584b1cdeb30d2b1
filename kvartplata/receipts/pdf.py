"""The payment document (ЕПД) as a one-page A4 PDF, drawn with ReportLab from a frozen snapshot.

Speed (a large organization renders a million receipts a month) comes from doing once per
process what is the same on every page:

* the fonts (DejaVu Sans Condensed, shipped in ``fonts/``) are registered once, and every
  document starts from the same pre-assigned glyph repertoire (ASCII, Cyrillic, the few symbols
  we print), so the embedded font subsets are identical on every receipt: they are built and
  compressed once and shared (``_SharedSubsetFont``);
* text is written straight into the content stream with a precomputed char → escaped-code table
  instead of ReportLab's per-call text objects; widths still come from ReportLab's metrics;
* the QR codes come from the fast template encoder of ``qr.py``.

The page is deterministic: ``invariant=1`` fixes dates and document ids, so the same snapshot
gives the same bytes.
"""

from __future__ import annotations

import copy
import io
import zlib
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import SUBSETN, TTFont, makeToUnicodeCMap
from reportlab.pdfgen.canvas import Canvas

from kvartplata.lib.periods import MONTH_NAMES_GENITIVE, period_label
from kvartplata.receipts import qr
from kvartplata.receipts.snapshot import validate_snapshot

__all__ = ["render_receipt", "render_receipts", "payee_qr_text"]

FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR = "KvDejaVuCond"
BOLD = "KvDejaVuCond-Bold"
FONT_FILES = {REGULAR: "DejaVuSansCondensed.ttf", BOLD: "DejaVuSansCondensed-Bold.ttf"}
# Every glyph the form uses in the same order on every page: identical subsets on every receipt.
REPERTOIRE = (
    "".join(map(chr, range(32, 127)))
    + "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюя"
    + "«»—–−№₽²³·…“”„‘’°×÷±•…"
)

PAGE_W, PAGE_H = A4
MARGIN = 22.0
LEFT, RIGHT = MARGIN, PAGE_W - MARGIN
WIDTH = RIGHT - LEFT
GREY = "0.35 g"
BLACK = "0 g"
SHADE = "0.92 g"
NBSP = "\u00a0"
MINUS = "\u2212"
DASH = "—"


# --- fonts ---------------------------------------------------------------------------------


class _SharedSubsetFont(TTFont):
    """A TrueType font whose subset objects are built once and shared by all documents."""

    def __init__(self, name: str, filename: str):
        super().__init__(name, filename, asciiReadable=True)
        key = _DocKey()
        self.splitString(REPERTOIRE, key)
        self._template = self.state[key]
        del self.state[key]
        # char -> escaped single-byte code of subset 0 as it appears in a PDF string literal
        self.table = {n: "\uffff" for n in range(256)}
        for char, code in self._template.assignments.items():
            if code < 256:
                self.table[char] = _escape_code(code)
        self.table[0xA0] = " "  # ReportLab draws a no-break space with the space glyph too

    def start(self, doc) -> str:
        """Give ``doc`` the shared starting state; returns the font's resource name (subset 0)."""
        state = copy.copy(self._template)
        state.assignments = dict(self._template.assignments)
        state.subsets = [list(s) for s in self._template.subsets]
        self.state[doc] = state
        return self.getSubsetInternalName(0, doc)

    def addObjects(self, doc):
        state = self.state[doc]
        state.frozen = 1
        fonts = doc.idToObject["BasicFonts"].dict
        for n, subset in enumerate(state.subsets):
            internal = self.getSubsetInternalName(n, doc)[1:]
            objects = self._objects(internal, n, tuple(subset))
            for name, obj in objects:
                handle = _Shared(obj)
                doc.Reference(handle, name)
            fonts[internal] = handle  # the last one is the font dictionary itself
        del self.state[doc]

    @lru_cache(maxsize=16)  # noqa: B019 - a handful of fonts live as long as the process
    def _objects(self, internal: str, n: int, subset: tuple[int, ...]):
        face = self.face
        base = (b"".join((SUBSETN(n), b"+", face.name, face.subfontNameX))).decode("pdfdoc")
        raw = face.makeSubset(list(subset))
        font_file = _packed_stream(raw, {"Length1": len(raw)})
        font_file_name = f"fontFile:{self.face.filename}({base})"
        flags = (face.flags & ~32) | 4  # symbolic, not non-symbolic
        descriptor = pdfdoc.PDFDictionary(
            {
                "Type": "/FontDescriptor",
                "Ascent": face.ascent,
                "CapHeight": face.capHeight,
                "Descent": face.descent,
                "Flags": flags,
                "FontBBox": pdfdoc.PDFArray(face.bbox),
                "FontName": pdfdoc.PDFName(base),
                "ItalicAngle": face.italicAngle,
                "StemV": face.stemV,
                "FontFile2": pdfdoc.PDFObjectReference(font_file_name),
                "MissingWidth": face.defaultWidth,
            }
        )
        cmap = _packed_stream(makeToUnicodeCMap(base, list(subset)).encode("latin-1"), {})
        font = pdfdoc.PDFTrueTypeFont()
        font.Name = internal
        font.BaseFont = base
        font.FirstChar = 0
        font.LastChar = len(subset) - 1
        font.Widths = _Raw(f"[{' '.join(str(face.getCharWidth(c)) for c in subset)}]")
        font.ToUnicode = pdfdoc.PDFObjectReference("toUnicodeCMap:" + base)
        font.FontDescriptor = pdfdoc.PDFObjectReference("fontDescriptor:" + base)
        return (
            (font_file_name, font_file),
            ("toUnicodeCMap:" + base, cmap),
            ("fontDescriptor:" + base, descriptor),
            (internal, font),
        )


class _Shared(pdfdoc.PDFObject):
    """A per-document handle on an object shared by all documents (ReportLab tags objects)."""

    __RefOnly__ = 1

    def __init__(self, obj):
        self.obj = obj

    def format(self, document):
        return self.obj.format(document)


class _Raw(pdfdoc.PDFObject):
    """Pre-formatted PDF syntax (formatting 200 widths per receipt is not free)."""

    def __init__(self, text: str):
        self.data = text.encode("latin-1")

    def format(self, document):
        return self.data


class _DocKey:
    """A stand-in document for building the shared font state."""


def _escape_code(code: int) -> str:
    char = chr(code)
    if 32 <= code < 127:
        return "\\" + char if char in "()\\" else char
    return f"\\{code:03o}"


def _packed_stream(raw: bytes, extra: dict) -> pdfdoc.PDFStream:
    # Compressed once here; a "Filter" already in the dictionary stops ReportLab re-encoding it.
    dictionary = pdfdoc.PDFDictionary(dict(extra))
    dictionary["Filter"] = pdfdoc.PDFArray([pdfdoc.PDFName("FlateDecode")])
    return pdfdoc.PDFStream(dictionary=dictionary, content=zlib.compress(raw, 6))


@lru_cache(maxsize=1)
def fonts() -> dict[str, _SharedSubsetFont]:
    """The form's fonts, registered with ReportLab once per process."""
    loaded = {}
    for name, filename in FONT_FILES.items():
        font = _SharedSubsetFont(name, str(FONT_DIR / filename))
        pdfmetrics.registerFont(font)
        loaded[name] = font
    return loaded


@lru_cache(maxsize=2)
def _char_widths(name: str) -> dict[int, float]:
    face = fonts()[name].face
    return {code: width / 1000 for code, width in face.charWidths.items()}


@lru_cache(maxsize=8192)
def _unit_width(s: str, name: str) -> float:
    """Width of ``s`` at 1 pt; labels repeat on every receipt, hence the cache."""
    widths = _char_widths(name)
    default = fonts()[name].face.defaultWidth / 1000
    return sum([widths.get(code, default) for code in map(ord, s.replace(NBSP, " "))])


def string_width(s: str, name: str, size: float) -> float:
    """Text width in points (ReportLab's pure-Python stringWidth is slower)."""
    return _unit_width(s, name) * size


# --- formatting ----------------------------------------------------------------------------


def _num(value: str | None, places: int = 2) -> str:
    """«1 234,56», «−15,00»; a dash for no value."""
    if value is None or value == "":
        return DASH
    amount = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = MINUS if amount < 0 else ""
    whole, _, fraction = f"{abs(amount):f}".partition(".")
    grouped = f"{int(whole):,}".replace(",", NBSP)
    return f"{sign}{grouped},{fraction}" if places else f"{sign}{grouped}"


def _vol(value: str | None) -> str:
    """A volume or reading: as many decimals as given (at most 3), Russian style."""
    if value is None or value == "":
        return DASH
    places = min(len(value.partition(".")[2]), 3)
    return _num(value, places)


def _rub(value: str) -> str:
    return f"{_num(value)}{NBSP}₽"


def _date(value: str) -> str:
    day = date.fromisoformat(value[:10])
    return f"{day:%d.%m.%Y}"


def _month(value: str) -> str:
    day = date.fromisoformat(value)
    return period_label(day)


# --- the page writer -----------------------------------------------------------------------


class _Page:
    """Collects graphics and text operators of one page; text goes into one BT … ET block."""

    def __init__(self, names: dict[str, str]):
        self.gfx: list[str] = []
        self.txt: list[str] = []
        self.names = names
        self.fonts = fonts()
        self.current = None
        self.color = BLACK
        self.slow: list[tuple] = []

    def text(self, x, y, s, size=7.0, bold=False, align="l", color=BLACK, width=None):
        """Draw a line of text; with ``width`` it shrinks (down to 80%) then truncates to fit."""
        if not s:
            return
        name = BOLD if bold else REGULAR
        if width is not None or align != "l":
            w = string_width(s, name, size)
            if width is not None and w > width:
                s, size, w = _fit(s, name, size, width, w)
            if align == "r":
                x -= w
            elif align == "c":
                x -= w / 2
        encoded = s.translate(self.fonts[name].table)
        if not encoded.isascii():
            self.slow.append((x, y, s, size, name, color))
            return
        txt = self.txt
        if self.current != (name, size):
            txt.append(f"{self.names[name]} {size:g} Tf")
            self.current = (name, size)
        if self.color != color:
            txt.append(color)
            self.color = color
        txt.append(f"1 0 0 1 {x:.2f} {y:.2f} Tm({encoded})Tj")

    def lines(self, segments, width=0.4, color="0 G"):
        ops = [f"{color} {width:g} w"]
        ops.extend(f"{x1:.2f} {y1:.2f} m {x2:.2f} {y2:.2f} l" for x1, y1, x2, y2 in segments)
        ops.append("S")
        self.gfx.append("\n".join(ops))

    def rect(self, x, y, w, h, fill=SHADE, stroke=False):
        op = "B" if stroke else "f"
        self.gfx.append(f"{fill} 0 G 0.5 w {x:.2f} {y:.2f} {w:.2f} {h:.2f} re {op}")

    def flush(self, canvas: Canvas) -> None:
        canvas.addLiteral("\n".join(self.gfx))
        # The shading rectangles leave a grey fill colour behind: text starts black explicitly.
        canvas.addLiteral("BT\n0 g\n" + "\n".join(self.txt) + "\nET")
        for x, y, s, size, name, color in self.slow:
            # Rare glyphs beyond the shared repertoire: ReportLab adds them to the subsets.
            canvas.setFillGray(0.35 if color == GREY else 0)
            canvas.setFont(name, size)
            canvas.drawString(x, y, s)


def _fit(s: str, name: str, size: float, width: float, w: float) -> tuple[str, float, float]:
    smaller = max(size * width / w, size * 0.8)
    w = string_width(s, name, smaller)
    if w <= width:
        return s, smaller, w
    while s and w > width:
        s = s[: max(1, int(len(s) * width / w) - 1)].rstrip()
        w = string_width(s + "…", name, smaller)
    return s + "…", smaller, w


def _wrap(s: str, name: str, size: float, width: float, max_lines: int) -> list[str]:
    """Greedy word wrap into at most ``max_lines`` lines (the last one is cut by ``_fit``)."""
    out: list[str] = []
    line = ""
    words = s.split()
    for k, word in enumerate(words):
        trial = f"{line} {word}" if line else word
        if not line or string_width(trial, name, size) <= width:
            line = trial
            continue
        out.append(line)
        if len(out) == max_lines - 1:
            out.append(" ".join(words[k:]))
            return out
        line = word
    if line:
        out.append(line)
    return out


ROW = 8.8
HEAD = 15.0
BODY = 6.6
SMALL = 5.8


def _table(page: _Page, x: float, top: float, columns, rows, *, total=None) -> float:
    """Draw a ruled table; columns are (title, width, align); returns the y below it."""
    width = sum(c[1] for c in columns)
    nrows = len(rows) + (1 if total else 0)
    bottom = top - HEAD - ROW * nrows
    page.rect(x, top - HEAD, width, HEAD)
    segments = [(x, top, x + width, top), (x, bottom, x + width, bottom)]
    y = top - HEAD
    segments.append((x, y, x + width, y))
    for k in range(1, nrows):
        yy = y - ROW * k
        segments.append((x, yy, x + width, yy))
    cx = x
    for k, (title, w, _align) in enumerate(columns):
        if k:
            segments.append((cx, top, cx, bottom))
        parts = title.split("\n")
        base = top - (6.2 if len(parts) == 2 else 9.4)
        for n, part in enumerate(parts):
            page.text(cx + w / 2, base - n * 6.2, part, SMALL, True, "c", width=w - 2)
        cx += w
    segments.append((x, top, x, bottom))
    segments.append((x + width, top, x + width, bottom))
    page.lines(segments, 0.35)
    body = rows + ([total] if total else [])
    for r, row in enumerate(body):
        ty = y - ROW * r - ROW + 2.4
        bold = total is not None and r == len(rows)
        cx = x
        for (_title, w, align), cell in zip(columns, row, strict=True):
            if align == "r":
                page.text(cx + w - 2, ty, cell, BODY, bold, "r", width=w - 3)
            elif align == "c":
                page.text(cx + w / 2, ty, cell, BODY, bold, "c", width=w - 3)
            else:
                page.text(cx + 2, ty, cell, BODY, bold, width=w - 3)
            cx += w
    return bottom


def _heading(page: _Page, y: float, title: str, x: float = LEFT, width: float = WIDTH) -> float:
    page.text(x, y - 8, title, 7.6, True)
    page.lines([(x, y - 10.5, x + width, y - 10.5)], 0.8)
    return y - 13


# --- the payment document ------------------------------------------------------------------


def payee_qr_text(snapshot: dict, payee: dict) -> str:
    """The ГОСТ Р 56042-2014 text of one payee of a receipt (Sum omitted for nothing to pay)."""
    account = snapshot["account"]
    holder = account["holder"]
    period = date.fromisoformat(snapshot["period"])
    amount = Decimal(payee["amount"])
    kopecks = int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP))
    bank = payee["bank"]
    return qr.payment_text(
        {
            "Name": payee["name"],
            "PersonalAcc": bank["account"],
            "BankName": bank["name"],
            "BIC": bank["bic"],
            "CorrespAcc": bank["corr"],
            "PayeeINN": payee["inn"],
            "KPP": payee["kpp"],
            "Sum": str(kopecks) if kopecks > 0 else "",
            "Purpose": payee["purpose"],
            "PersAcc": account["number"],
            "LastName": holder["last"],
            "FirstName": holder["first"],
            "MiddleName": holder["middle"],
            "PayerAddress": account["address"],
            "PaymPeriod": f"{period:%m%Y}",
            "TechCode": "02",
        }
    )


def _header(page: _Page, s: dict, y: float) -> float:
    period = date.fromisoformat(s["period"])
    issued = datetime.fromisoformat(s["issued_at"])
    page.text(LEFT, y - 12, "ЕДИНЫЙ ПЛАТЁЖНЫЙ ДОКУМЕНТ", 12.5, True)
    page.text(
        LEFT,
        y - 21,
        "для внесения платы за содержание и ремонт жилого помещения и предоставление "
        "коммунальных услуг",
        6.4,
        color=GREY,
        width=330,
    )
    page.text(
        LEFT,
        y - 33,
        f"за {period_label(period)} г.  ·  № {s['number']} от "
        f"{issued.day} {MONTH_NAMES_GENITIVE[issued.month - 1]} {issued.year} г.",
        8.5,
        True,
    )
    box_x, box_w = RIGHT - 205, 205
    page.rect(box_x, y - 44, box_w, 44, stroke=True)
    mid = box_x + 78
    page.lines([(mid, y - 44, mid, y)], 0.5)
    page.text(box_x + 5, y - 10, "Лицевой счёт", 6.2, color=GREY)
    page.text(box_x + 5, y - 24, s["account"]["number"], 11, True, width=70)
    page.text(box_x + 5, y - 38, _month(s["period"]), 6.8, width=70)
    page.text(mid + 6, y - 10, "Итого к оплате", 6.2, color=GREY)
    page.text(RIGHT - 6, y - 26, _rub(s["totals"]["total_due"]), 14, True, "r", width=118)
    page.text(mid + 6, y - 38, f"Оплатить до {_date(s['due_date'])}", 7.2, True)
    return y - 50


def _parties(page: _Page, s: dict, y: float) -> float:
    col = WIDTH * 0.44
    left_x, right_x = LEFT, LEFT + col + 10
    right_w = RIGHT - right_x
    top = y
    y = _heading(page, top, "1. Плательщик", left_x, col)
    acc = s["account"]
    holder = acc["holder"]
    area = f"общая {_num(acc['area'])} м²"
    if acc.get("living_area"):
        area += f", жилая {_num(acc['living_area'])} м²"
    rows = (
        ("Ф. И. О.", " ".join(p for p in (holder["last"], holder["first"], holder["middle"]) if p)),
        ("Адрес", acc["address"]),
        ("Лицевой счёт", acc["number"]),
        ("Площадь", area),
        ("Проживает", f"{acc['residents']} чел."),
        ("Период", _month(s["period"])),
    )
    ly = y - 8
    for label, value in rows:
        page.text(left_x, ly, label, BODY, color=GREY)
        if label == "Адрес":
            for line in _wrap(value, REGULAR, 7, col - 62, 2):
                page.text(left_x + 62, ly, line, 7, width=col - 62)
                ly -= 8.4
            ly += 8.4
        else:
            page.text(
                left_x + 62, ly, value, 7, label in ("Ф. И. О.", "Лицевой счёт"), width=col - 62
            )
        ly -= 9.0
    y = _heading(page, top, "Исполнитель услуг", right_x, right_w)
    org = s["organization"]
    ry = y - 8
    for line in _wrap(org["name"], BOLD, 7, right_w, 2):
        page.text(right_x, ry, line, 7, True, width=right_w)
        ry -= 8.2
    bank = org["bank"]
    details = [
        f"ИНН {org['inn']}  КПП {org['kpp']}" + (f"  ОГРН {org['ogrn']}" if org["ogrn"] else ""),
        f"Адрес: {org['address']}",
        "Телефоны: " + "; ".join(org["phones"]) if org["phones"] else "",
        "  ·  ".join(
            p
            for p in (
                f"E-mail: {org['email']}" if org["email"] else "",
                f"Сайт: {org['website']}" if org["website"] else "",
            )
            if p
        ),  # fmt: skip
        f"Часы приёма: {org['hours']}" if org["hours"] else "",
        f"Р/с {bank['account']} в {bank['name']}",
        f"БИК {bank['bic']}  К/с {bank['corr']}",
    ]
    for line in details:
        if line:
            page.text(right_x, ry, line, BODY, width=right_w)
            ry -= 7.9
    return min(ly, ry) - 2


def _meters(page: _Page, s: dict, top: float, x: float, col: float) -> float:
    y = _heading(page, top, "2. Показания индивидуальных приборов учёта", x, col)
    columns = (
        ("Услуга", col - 168, "l"),
        ("№ прибора", 44, "l"),
        ("Зона", 26, "c"),
        ("Предыдущие", 38, "r"),
        ("Текущие", 38, "r"),
        ("Ед.", 22, "c"),
    )
    rows = [
        (
            m["service"],
            m["serial"],
            m["zone"] or DASH,
            _vol(m["previous"]),
            _vol(m["current"]),
            m["unit"],
        )  # fmt: skip
        for m in s["meters"]
    ]
    if not rows:
        rows = [("Приборы учёта не установлены", "", "", "", "", "")]
    return _table(page, x, y - 2, columns, rows)


def _reference(page: _Page, s: dict, top: float, rx: float, rw: float) -> float:
    y = _heading(page, top, "4. Справочная информация", rx, rw)
    ref = s["reference"]
    bottom = y - 2
    if ref["norms"]:
        columns = (
            ("Нормативы потребления", rw - 112, "l"),
            ("Ед.", 36, "c"),
            ("Индивид.", 38, "r"),
            ("ОДН", 38, "r"),
        )
        rows = [(n["service"], n["unit"], _vol(n["individual"]), _vol(n["common"]))
                for n in ref["norms"]]  # fmt: skip
        bottom = _table(page, rx, bottom, columns, rows) - 4
    if ref["building"]:
        columns = (
            ("Общедомовые приборы учёта", rw - 132, "l"),
            ("Показание\nОДПУ", 50, "r"),
            ("Объём\nпо дому", 50, "r"),
            ("Ед.", 32, "c"),
        )
        rows = [(b["resource"], _vol(b["reading"]), _vol(b["volume"]), b["unit"])
                for b in ref["building"]]  # fmt: skip
        bottom = _table(page, rx, bottom, columns, rows)
    if not ref["norms"] and not ref["building"]:
        page.text(rx + 2, bottom - 8, "Нет данных", BODY, color=GREY)
        bottom -= 12
    return bottom


SUPERSCRIPTS = "¹²³⁴⁵⁶⁷⁸⁹"


def _charges(page: _Page, s: dict, y: float) -> float:
    y = _heading(page, y, "3. Расчёт размера платы за содержание жилого помещения и "
                 "коммунальные услуги, руб.")  # fmt: skip
    fixed = 56 + 24 + 38 + 34 + 38 + 42 + 34 + 40 + 38 + 46 + 60
    columns = (
        ("Вид услуги", WIDTH - fixed, "l"),
        ("Исполнитель", 56, "l"),
        ("Ед.\nизм.", 24, "c"),
        ("Объём\nиндивид.", 38, "r"),
        ("Объём\nОДН", 34, "r"),
        ("Тариф,\nруб./ед.", 38, "r"),
        ("Начислено\nза период", 42, "r"),
        ("Повыш.\nкоэфф.", 34, "r"),
        ("Перерас-\nчёты", 40, "r"),
        ("Льготы,\nсубсидии", 38, "r"),
        ("Итого\nк оплате", 46, "r"),
        ("Способ\nрасчёта", 60, "l"),
    )
    notes = []
    rows = []
    for c in s["charges"]:
        service = c["service"]
        if c["explanation"]:
            notes.append(c["explanation"])
            marker = str(len(notes))
            service = f"{service} [{marker}]"
        rows.append(
            (
                service,
                c["provider"],
                c["unit"],
                _vol(c["volume"]),
                _vol(c["common_volume"]),
                _num(c["tariff"]) if c["tariff"] else DASH,
                _num(c["charged"]),
                _num(c["coefficient_amount"]),
                _num(c["recalculations"]),
                _num(c["privileges"]),
                _num(c["total"]),
                c["method"],
            )
        )
    totals = s["totals"]
    total = ("Итого за период", "", "", "", "", "", "", "", _num(totals["recalculations"]), "",
             _num(totals["charges"]), "")  # fmt: skip
    y = _table(page, LEFT, y - 2, columns, rows, total=total)
    # Notes run on in at most three lines, so the page height stays bounded.
    text = "   ".join(f"[{k}] {note}" for k, note in enumerate(notes, 1))
    for line in _wrap(text, REGULAR, SMALL, WIDTH, 3) if text else ():
        y -= 6.6
        page.text(LEFT, y, line, SMALL, color=GREY, width=WIDTH)
    return y - 5


def _recalculations(page: _Page, s: dict, top: float, x: float, col: float) -> float:
    y = _heading(page, top, "6. Перерасчёты", x, col)
    # The reason gets what the three short columns leave.
    columns = (("Услуга", 76, "l"), ("Месяц", 50, "c"), ("Сумма", 44, "r"),
               ("Основание", col - 170, "l"))  # fmt: skip
    rows = [
        (r["service"], _month(r["month"]), _num(r["amount"]), r["reason"])
        for r in s["recalculations"]
    ] or [("Перерасчётов нет", "", "", "")]
    return _table(page, x, y - 2, columns, rows)


def _totals(page: _Page, s: dict, top: float, bx: float, box_w: float) -> float:
    right = bx + box_w
    y = _heading(page, top, "Итоги", bx, box_w)
    t = s["totals"]
    opening = Decimal(t["opening"])
    lines = (
        ("Долг на начало периода" if opening >= 0 else "Аванс на начало периода",
         _rub(t["opening"] if opening >= 0 else str(-opening)), False),
        ("Начислено за период", _rub(t["charges"]), False),
        ("   в т. ч. перерасчёты", _rub(t["recalculations"]), False),
        ("Пени", _rub(t["penalties"]), False),
        ("Оплачено в периоде", _rub(t["payments"]), False),
    )  # fmt: skip
    ty = y - 8
    for label, value, bold in lines:
        page.text(bx + 2, ty, label, 7, bold)
        page.text(right - 2, ty, value, 7, bold, "r")
        ty -= 9.4
    # The grey bar starts below the descenders of the last line above it, not over them.
    ty -= 4
    page.rect(bx, ty - 5.5, box_w, 15)
    page.text(bx + 3, ty, "ИТОГО К ОПЛАТЕ", 8.5, True)
    page.text(right - 3, ty, _rub(t["total_due"]), 9.5, True, "r")
    ty -= 16
    page.text(bx + 3, ty, "Срок оплаты", 7)
    page.text(right - 3, ty, f"до {_date(s['due_date'])}", 7.5, True, "r")
    return ty - 2


def _meters_and_totals(page: _Page, s: dict, y: float) -> float:
    """Section 2 on the left, the totals box on the right: the amount due is seen first."""
    box_w = 200
    left_bottom = _meters(page, s, y, LEFT, WIDTH - box_w - 10)
    right_bottom = _totals(page, s, y, RIGHT - box_w, box_w)
    return min(left_bottom, right_bottom) - 4


def _reference_and_recalculations(page: _Page, s: dict, y: float) -> float:
    """Sections 4 and 6 side by side, after section 3: the ЕПД's order, left to right."""
    # The reference tables hold short names and numbers; the reasons of section 6 need room.
    col = 230
    left_bottom = _reference(page, s, y, LEFT, col)
    right_bottom = _recalculations(page, s, y, LEFT + col + 10, RIGHT - LEFT - col - 10)
    return min(left_bottom, right_bottom) - 6


QR_SIZE = 100.0
QR_QUIET = 6.0
STRIP_BOTTOM = MARGIN + 10
STRIP_TOP = STRIP_BOTTOM + QR_SIZE + 2 * QR_QUIET + 13


def _payees(page: _Page, canvas_ops: list[str], s: dict, bottom: float) -> None:
    """The payment slip: one box with details and a QR code per payee, at the page bottom."""
    payees = s["payees"]
    box_h = QR_SIZE + 2 * QR_QUIET
    top = bottom + box_h + 13
    _heading(page, top, "Получатели платежа · QR-код для оплаты в приложении банка "
             "(ГОСТ Р 56042-2014)")  # fmt: skip
    y = bottom + box_h
    box_w = WIDTH / len(payees)
    segments = [(LEFT, y, RIGHT, y), (LEFT, bottom, RIGHT, bottom)]
    acc = s["account"]
    for k, payee in enumerate(payees):
        x = LEFT + box_w * k
        segments.append((x, y, x, bottom))
        text = payee_qr_text(s, payee)
        rows = qr.payment_qr_matrix(text)
        canvas_ops.append(qr.qr_path(rows, x + QR_QUIET, bottom + QR_QUIET, QR_SIZE))
        tx = x + QR_SIZE + 2 * QR_QUIET - 2
        tw = box_w - QR_SIZE - 2 * QR_QUIET - 2
        ty = y - 9
        for line in _wrap(payee["name"], BOLD, 6.8, tw, 2):
            page.text(tx, ty, line, 6.8, True, width=tw)
            ty -= 7.8
        bank = payee["bank"]
        size = 5.6 if len(payees) == 3 else 6.2
        for line in (
            f"ИНН {payee['inn']}  КПП {payee['kpp']}",
            f"Р/с {bank['account']}",
            bank["name"],
            f"БИК {bank['bic']}",
            f"К/с {bank['corr']}",
            f"ЛС {acc['number']}",
        ):
            page.text(tx, ty, line, size, width=tw)
            ty -= size + 1.6
        if payee["services"]:
            for line in _wrap("За: " + ", ".join(payee["services"]), REGULAR, size, tw, 2):
                page.text(tx, ty, line, size, color=GREY, width=tw)
                ty -= size + 1.6
        amount = Decimal(payee["amount"])
        page.text(tx, bottom + 17, "Сумма к оплате", size, color=GREY)
        page.text(tx, bottom + 6, _rub(payee["amount"]) if amount > 0 else DASH, 9, True)
    segments.append((RIGHT, y, RIGHT, bottom))
    page.lines(segments, 0.6)


def _draw(canvas: Canvas, s: dict, names: dict[str, str]) -> None:
    page = _Page(names)
    y = PAGE_H - MARGIN
    y = _header(page, s, y)
    y = _parties(page, s, y - 2)
    # Sections in the ЕПД's order, top to bottom: 1, 2 (with the totals), 3, then 4 and 6.
    y = _meters_and_totals(page, s, y)
    y = _charges(page, s, y)
    y = _reference_and_recalculations(page, s, y)
    if s.get("notice"):
        y -= 10
        page.text(LEFT, y, s["notice"], 6.8, True, width=WIDTH)
    if y < STRIP_TOP:
        # The schema's row limits keep this from happening; never print overlapping text.
        raise ValueError(f"Квитанция не помещается на страницу A4 ({STRIP_TOP - y:.0f} pt лишних).")
    qr_ops: list[str] = []
    _payees(page, qr_ops, s, STRIP_BOTTOM)
    page.text(
        LEFT,
        MARGIN,
        "Квитанция сформирована автоматически. Вопросы по начислениям — исполнителю услуг "
        "по телефонам, указанным выше.",
        5.6,
        color=GREY,
    )
    page.flush(canvas)
    canvas.addLiteral("\n".join(qr_ops))


def _new_canvas(buffer: io.BytesIO, s: dict) -> tuple[Canvas, dict[str, str]]:
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle(f"ЕПД № {s['number']}, ЛС {s['account']['number']}, {_month(s['period'])}")
    canvas.setAuthor(s["organization"]["name"])
    canvas.setCreator("Kvartplata")
    doc = canvas._doc
    # Resource names are fixed by the order fonts join the document: always the same order.
    names = {name: f"{font.start(doc)}" for name, font in fonts().items()}
    return canvas, names


def render_receipt(snapshot: dict, *, validate: bool = True) -> bytes:
    """One A4 page of the payment document as PDF bytes; same snapshot → same bytes."""
    if validate:
        validate_snapshot(snapshot)
    buffer = io.BytesIO()
    canvas, names = _new_canvas(buffer, snapshot)
    _draw(canvas, snapshot, names)
    canvas.showPage()
    # ReportLab wraps page streams in ASCII85 (rl_config.useA85, a process-wide switch) on top
    # of Flate; in pure Python that is a third of the time and 25 % more bytes. Binary Flate
    # only, set on this page alone.
    page = canvas._doc.Pages.pages[-1]
    page.Contents = pdfdoc.PDFStream(content=page.stream, filters=[pdfdoc.PDFZCompress])
    canvas.save()
    return buffer.getvalue()


def render_receipts(snapshots: Iterable[dict], *, validate: bool = True) -> Iterator[bytes]:
    """Render many receipts, one PDF each; fonts and subsets are shared across the batch."""
    fonts()
    for snapshot in snapshots:
        yield render_receipt(snapshot, validate=validate)
