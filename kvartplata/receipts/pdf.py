"""The payment document (ЕПД) as an A4 PDF, drawn with ReportLab from a frozen snapshot.

The sections follow the form of Приказ Минстроя № 43/пр in its order and numbering. Nothing is
ever cut off: every text wraps, table rows grow, and a block that does not fit starts a second
page (a table continues on it under a repeated header).

Speed (a large organization renders a million receipts a month) comes from doing once per
process what is the same on every page:

* the fonts (DejaVu Sans Condensed, shipped in ``fonts/``) are registered once, and every
  document starts from the same pre-assigned glyph repertoire (ASCII, Cyrillic, the few symbols
  we print), so the embedded font subsets are identical on every receipt: they are built and
  compressed once and shared (``_SharedSubsetFont``);
* text is written straight into the content stream with a precomputed char → escaped-code table
  instead of ReportLab's per-call text objects; widths still come from ReportLab's metrics;
* the QR codes come from the fast template encoder of ``qr.py`` and are drawn as 1-bit image
  masks (about a kilobyte each, not thousands of rectangles);
* the form above the block «why the sum changed» is laid out once, whichever variant of the
  block is tried below it; widths, encoded texts and formatted numbers are cached.

The page is deterministic: ``invariant=1`` fixes dates and document ids, so the same snapshot
gives the same bytes.
"""

from __future__ import annotations

import copy
import io
import re
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

from kvartplata.lib import gost_qr
from kvartplata.lib.money import NBSP, format_rub, format_volume
from kvartplata.lib.periods import MONTH_NAMES_GENITIVE, format_date, period_label
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
            names = tuple(name for name, _obj, _formatted in objects)
            for name, obj, formatted in objects:
                handle = _Shared(obj, formatted, names)
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
            (font_file_name, font_file, {}),
            ("toUnicodeCMap:" + base, cmap, {}),
            ("fontDescriptor:" + base, descriptor, {}),
            (internal, font, {}),
        )


class _Shared(pdfdoc.PDFObject):
    """A per-document handle on an object shared by all documents (ReportLab tags objects).

    The object's bytes depend on the document only through the numbers of the font's objects
    it refers to: they are formatted once per numbering (``formatted``, shared too).
    """

    __RefOnly__ = 1

    def __init__(self, obj, formatted: dict, names: tuple[str, ...]):
        self.obj = obj
        self.formatted = formatted
        self.names = names

    def format(self, document):
        numbers = document.idToObjectNumberAndVersion
        key = tuple(numbers[name] for name in self.names)
        data = self.formatted.get(key)
        if data is None:
            if len(self.formatted) >= 32:  # numberings seen are few; never let it grow
                self.formatted.clear()
            data = self.formatted[key] = self.obj.format(document)
        return data


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
    widths = dict(fonts()[name].face.charWidths)
    widths[ord(NBSP)] = widths[ord(" ")]  # drawn with the space glyph (see _Page.text)
    return widths


@lru_cache(maxsize=16384)
def _units(s: str, name: str) -> float:
    """Width of ``s`` in thousandths of the type size; words and labels repeat, hence the cache.

    The glyph widths are multiples of 1/256 (font units of a 2048-unit em, per 1000), so these
    sums are exact: a line's width is exactly the sum of its words' and spaces' widths.
    """
    widths = _char_widths(name)
    default = fonts()[name].face.defaultWidth
    return sum([widths.get(code, default) for code in map(ord, s)])


@lru_cache(maxsize=16384)
def _encoded(s: str, name: str) -> str | None:
    """``s`` as a PDF string literal's content in subset 0 of the font; None when a glyph is
    beyond the shared repertoire. Labels and amounts repeat on every receipt, hence the cache."""
    encoded = s.translate(fonts()[name].table)
    return encoded if encoded.isascii() else None


def string_width(s: str, name: str, size: float) -> float:
    """Text width in points (ReportLab's pure-Python stringWidth is slower)."""
    return _units(s, name) * size / 1000


# --- formatting ----------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def _num(value: str | None, places: int = 2) -> str:
    """«1 234,56», «−15,00»; a dash for no value. Tariffs, norms and zeros repeat on every
    receipt: nine in ten are found in the cache."""
    if value is None or value == "":
        return DASH
    return format_volume(Decimal(value), places)


def _vol(value: str | None) -> str:
    """A volume or reading: exactly the decimals given (a billed volume has its unit's), Russian
    style."""
    if value is None or value == "":
        return DASH
    places = min(len(value.partition(".")[2]), 6)
    return _num(value, places)


def _rub(value: str) -> str:
    return format_rub(Decimal(value))


def _date(value: str) -> str:
    return format_date(date.fromisoformat(value[:10]))


def _month(value: str) -> str:
    day = date.fromisoformat(value)
    return period_label(day)


# --- the page writer -----------------------------------------------------------------------


class _Page:
    """Collects graphics and text operators of one page; text goes into one BT … ET block."""

    def __init__(self, names: dict[str, str]):
        self.gfx: list[str] = []
        self.txt: list[str] = []
        self.qr: list[str] = []
        self.names = names
        self.current = None
        self.color = BLACK
        self.slow: list[tuple] = []

    def text(self, x, y, s, size=7.0, bold=False, align="l", color=BLACK, width=None):
        """Draw a line of text; with ``width`` a too wide line shrinks (never cut: callers wrap).

        Text that would not fit even at ``MIN_SCALE`` of its size must be wrapped by the caller
        (``_wrap``); here it is drawn whole at the smallest size rather than cut.
        """
        if not s:
            return
        name = BOLD if bold else REGULAR
        if width is not None or align != "l":
            w = string_width(s, name, size)
            if width is not None and w > width:
                size = max(size * width / w, size * MIN_SCALE)
                w = string_width(s, name, size)
            if align == "r":
                x -= w
            elif align == "c":
                x -= w / 2
        encoded = _encoded(s, name)
        if encoded is None:
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

    def mark(self) -> tuple:
        return len(self.gfx), len(self.txt), len(self.qr), len(self.slow), self.current, self.color

    def rollback(self, mark: tuple) -> None:
        gfx, txt, qr_ops, slow, self.current, self.color = mark
        del self.gfx[gfx:], self.txt[txt:], self.qr[qr_ops:], self.slow[slow:]

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
        if self.qr:
            canvas.addLiteral("\n".join(self.qr))


MIN_SCALE = 0.85


_BREAKS = re.compile(r"[ \t\r\n]+")


def _wrap(s: str, name: str, size: float, width: float) -> list[str]:
    """Greedy word wrap into as many lines as it takes; a word wider than a line is split."""
    out: list[str] = []
    line = ""
    used = 0.0  # the width of ``line`` (in _units): words are measured once, not every trial
    space = _units(" ", name)
    # Break at ordinary spaces only: a no-break space keeps «1 234,56 ₽» on one line.
    for word in _BREAKS.split(s):
        if not word:
            continue
        trial = used + space + _units(word, name) if line else _units(word, name)
        if trial * size / 1000 <= width:
            line = f"{line} {word}" if line else word
            used = trial
            continue
        if line:
            out.append(line)
        while string_width(word, name, size) > width and len(word) > 1:
            # A word wider than the line: break after a hyphen that fits, else (an account
            # number, a long URL) between characters.
            cut = len(word) - 1
            while cut > 1 and string_width(word[:cut], name, size) > width:
                cut -= 1
            hyphen = word.rfind("-", 0, cut)
            if hyphen > 0:
                cut = hyphen + 1
            out.append(word[:cut])
            word = word[cut:]
        line = word
        used = _units(word, name)
    if line:
        out.append(line)
    return out or [""]


def _fits(s: str, name: str, size: float, width: float) -> bool:
    return string_width(s, name, size) * MIN_SCALE <= width


ROW_PAD = 2.2
NOTE_LEAD = 1.12
HEAD_LINE = 6.2
BODY = 6.6
SMALL = 5.8
LEAD = 1.25  # line height = size × LEAD


class _Table:
    """A ruled table planned before it is drawn: every cell's lines and every row's height."""

    def __init__(self, columns, rows, *, total=None, size=BODY):
        self.columns = columns
        self.size = size
        self.total = total
        self.head_lines = [title.split("\n") for title, _w, _a in columns]
        self.head_h = max(len(p) for p in self.head_lines) * HEAD_LINE + 4
        self.rows = [self._plan(row, False) for row in rows]
        if total is not None:
            self.rows.append(self._plan(total, True))
        self.width = sum(c[1] for c in columns)

    def _plan(self, row, bold):
        name = BOLD if bold else REGULAR
        cells = []
        for (_title, w, align), cell in zip(self.columns, row, strict=True):
            cell = cell or ""
            if isinstance(cell, tuple):  # (text, grey second line)
                main, note = cell
            else:
                main, note = cell, ""
            if align == "l" or not _fits(main, name, self.size, w - 3):
                lines = _wrap(main, name, self.size, w - 3) if main else []
            else:
                lines = [main]
            inline = None
            notes = []
            if note:
                # A short grey note goes on the last line when it fits there, else below.
                used = string_width(lines[-1], name, self.size) + 4 if lines else 0.0
                if used + string_width(note, REGULAR, SMALL) <= w - 3:
                    inline = (used, note)
                else:
                    notes = _wrap(note, REGULAR, SMALL, w - 3)
            cells.append((lines, notes, inline))
        height = max(
            len(lines) * self.size * LEAD + len(notes) * SMALL * NOTE_LEAD
            for lines, notes, _inline in cells
        )
        return bold, cells, max(height, self.size * LEAD) + ROW_PAD

    def height(self) -> float:
        return self.head_h + sum(r[2] for r in self.rows)

    def draw_head(self, page: _Page, x: float, top: float) -> float:
        page.rect(x, top - self.head_h, self.width, self.head_h)
        cx = x
        for (_title, w, _a), parts in zip(self.columns, self.head_lines, strict=True):
            base = top - (self.head_h - len(parts) * HEAD_LINE) / 2 - HEAD_LINE + 1.4
            for n, part in enumerate(parts):
                page.text(cx + w / 2, base - n * HEAD_LINE, part, SMALL, True, "c", width=w - 2)
            cx += w
        return top - self.head_h

    def draw_rows(self, page: _Page, x: float, top: float, rows) -> float:
        y = top
        for bold, cells, h in rows:
            cx = x
            for (_t, w, align), (lines, notes, inline) in zip(self.columns, cells, strict=True):
                ty = y - self.size - 0.6
                for line in lines:
                    if align == "r":
                        page.text(cx + w - 2, ty, line, self.size, bold, "r", width=w - 3)
                    elif align == "c":
                        page.text(cx + w / 2, ty, line, self.size, bold, "c", width=w - 3)
                    else:
                        page.text(cx + 2, ty, line, self.size, bold, width=w - 3)
                    ty -= self.size * LEAD
                if inline:
                    dx, note = inline
                    page.text(cx + 2 + dx, ty + self.size * LEAD, note, SMALL, color=GREY)
                for line in notes:
                    page.text(cx + 2, ty + self.size - SMALL, line, SMALL, color=GREY)
                    ty -= SMALL * NOTE_LEAD
                cx += w
            y -= h
        return y

    def rules(self, page: _Page, x: float, top: float, heights: list[float]) -> None:
        bottom = top - self.head_h - sum(heights)
        segments = [(x, top, x + self.width, top), (x, bottom, x + self.width, bottom)]
        y = top - self.head_h
        for h in heights:
            segments.append((x, y, x + self.width, y))
            y -= h
        cx = x
        for _t, w, _a in self.columns:
            segments.append((cx, top, cx, bottom))
            cx += w
        segments.append((cx, top, cx, bottom))
        page.lines(segments, 0.35)

    def draw(self, page: _Page, x: float, top: float) -> float:
        """The whole table at (x, top) on one page; returns the y below it."""
        y = self.draw_head(page, x, top)
        self.draw_rows(page, x, y, self.rows)
        self.rules(page, x, top, [r[2] for r in self.rows])
        return top - self.height()


class _Flow:
    """Blocks laid top to bottom; a block that does not fit starts a new page (never cut)."""

    def __init__(self, names: dict[str, str], s: dict):
        self.names = names
        self.s = s
        self.pages: list[_Page] = []
        self.new_page()

    def new_page(self) -> None:
        page = _Page(self.names)
        self.pages.append(page)
        self.page = page
        self.y = PAGE_H - MARGIN
        if len(self.pages) > 1:
            s = self.s
            page.text(
                LEFT,
                self.y - 8,
                f"Единый платёжный документ № {s['number']} · лицевой счёт "
                f"{s['account']['number']} · {_month(s['period'])} (продолжение)",
                7,
                True,
            )
            self.y -= 16

    def mark(self) -> tuple:
        """Where the layout stands now, to come back to with ``rollback``."""
        return len(self.pages), self.y, self.page.mark()

    def rollback(self, mark: tuple) -> None:
        """Undo everything laid out since ``mark`` (pages started since included)."""
        count, self.y, page_mark = mark
        del self.pages[count:]
        self.page = self.pages[-1]
        self.page.rollback(page_mark)

    def need(self, height: float) -> None:
        """Start a new page unless ``height`` points fit above the footer of this one."""
        if self.y - height < BOTTOM and self.y < PAGE_H - MARGIN - 20:
            self.new_page()

    def heading(self, title: str, keep: float = 0.0) -> None:
        """A section title, kept on the same page as the first ``keep`` points below it."""
        self.need(13 + keep)
        self.y = _heading(self.page, self.y, title)

    def table(self, table: _Table, x: float = LEFT) -> None:
        """A table; rows that do not fit go on to the next page under a repeated header."""
        rows = table.rows
        while rows:
            self.need(table.head_h + rows[0][2])
            room = self.y - BOTTOM - table.head_h
            fit = []
            used = 0.0
            for row in rows:
                if used + row[2] > room and fit:
                    break
                fit.append(row)
                used += row[2]
            top = self.y
            y = table.draw_head(self.page, x, top)
            table.draw_rows(self.page, x, y, fit)
            table.rules(self.page, x, top, [r[2] for r in fit])
            self.y = top - table.head_h - used
            rows = rows[len(fit) :]
            if rows:
                self.new_page()
        self.y -= 3


def _heading(page: _Page, y: float, title: str, x: float = LEFT, width: float = WIDTH) -> float:
    page.text(x, y - 8, title, 7.6, True)
    page.lines([(x, y - 10.5, x + width, y - 10.5)], 0.8)
    return y - 13


class _Lines:
    """A column of wrapped lines measured before drawing: (indent, text, size, bold, color)."""

    def __init__(self, width: float):
        self.width = width
        self.items: list[tuple[float, str, float, bool, str, float]] = []

    def add(self, text, size=BODY, bold=False, color=BLACK, indent=0.0, gap=0.0):
        if not text:
            return
        name = BOLD if bold else REGULAR
        for k, line in enumerate(_wrap(text, name, size, self.width - indent)):
            self.items.append((indent, line, size, bold, color, gap if k == 0 else 0.0))

    def pair(self, label, value, size=BODY, label_w=62.0, bold=False):
        """A grey label and a wrapped value beside it."""
        if not value:
            return
        label_w = max(label_w, string_width(label, REGULAR, size) + 4)
        lines = _wrap(value, BOLD if bold else REGULAR, size, self.width - label_w)
        self.items.append((0.0, label, size, False, GREY, 0.0))
        self.items.append((label_w, lines[0], size, bold, BLACK, -size * LEAD))
        for line in lines[1:]:
            self.items.append((label_w, line, size, bold, BLACK, 0.0))

    def height(self) -> float:
        return sum(size * LEAD + gap for _i, _t, size, _b, _c, gap in self.items)

    def draw(self, page: _Page, x: float, top: float) -> float:
        y = top
        for indent, text, size, bold, color, gap in self.items:
            y -= size * LEAD + gap
            page.text(x + indent, y + size * 0.22, text, size, bold, color=color)
        return y


# --- the payment document ------------------------------------------------------------------


def payee_qr_text(snapshot: dict, payee: dict) -> str:
    """The ГОСТ Р 56042-2014 text of one payee of a receipt (Sum omitted for nothing to pay)."""
    account = snapshot["account"]
    holder = account["holder"]
    period = date.fromisoformat(snapshot["period"])
    amount = Decimal(payee["amount"])
    kopecks = int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP))
    bank = payee["bank"]
    return gost_qr.payment_text(
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


LINK_CODE_LABEL = "Код для подключения к личному кабинету"


def link_code_text(account: dict) -> str:
    """The code to link the account; empty when the organization links by the receipt's total
    (a receipt frozen before the code was printed has none: a dash)."""
    code = account.get("link_code")
    if code is None:
        return DASH
    return code or "сумма «Итого к оплате»"


def _header(flow: _Flow, s: dict) -> None:
    page, y = flow.page, flow.y
    period = date.fromisoformat(s["period"])
    issued = datetime.fromisoformat(s["issued_at"])
    box_w = 215
    text_w = WIDTH - box_w - 8
    page.text(LEFT, y - 12, "ЕДИНЫЙ ПЛАТЁЖНЫЙ ДОКУМЕНТ", 12.5, True)
    sub = _Lines(text_w)
    sub.add(
        "для внесения платы за содержание и ремонт жилого помещения и предоставление "
        "коммунальных услуг",
        6.4,
        color=GREY,
    )
    sub.add(
        f"за {period_label(period)} г.  ·  № {s['number']} от "
        f"{issued.day} {MONTH_NAMES_GENITIVE[issued.month - 1]} {issued.year} г.",
        8.5,
        True,
        gap=3,
    )
    sub_bottom = sub.draw(page, LEFT, y - 15)
    box_h = 58
    box_x = RIGHT - box_w
    page.rect(box_x, y - box_h, box_w, box_h, stroke=True)
    mid = box_x + 96
    page.lines([(mid, y - box_h, mid, y)], 0.5)
    acc = s["account"]
    page.text(box_x + 5, y - 9, "Лицевой счёт", 6.2, color=GREY)
    page.text(box_x + 5, y - 21, acc["number"], 11, True, width=mid - box_x - 8)
    page.text(box_x + 5, y - 31, "Код для подключения", 5.6, color=GREY)
    page.text(box_x + 5, y - 38, "к личному кабинету", 5.6, color=GREY)
    code = link_code_text(acc)
    page.text(box_x + 5, y - 49, code, 9.5 if len(code) < 16 else 6, True, width=mid - box_x - 8)
    page.text(mid + 6, y - 9, "Итого к оплате", 6.2, color=GREY)
    page.text(RIGHT - 6, y - 26, _rub(s["totals"]["total_due"]), 14, True, "r", width=box_w - 104)
    page.text(mid + 6, y - 40, f"за {_month(s['period'])}", 6.8, width=box_w - 104)
    page.text(mid + 6, y - 51, f"Оплатить до {_date(s['due_date'])}", 7.2, True)
    flow.y = min(y - box_h, sub_bottom) - 3


def _section1(flow: _Flow, s: dict) -> None:
    """1. The payer (with the linking code) and the executor of the services."""
    col = WIDTH * 0.44
    right_x = LEFT + col + 10
    right_w = RIGHT - right_x
    acc = s["account"]
    holder = acc["holder"]
    area = f"общая {_num(acc['area'])} м²"
    if acc.get("living_area"):
        area += f", жилая {_num(acc['living_area'])} м²"
    payer = _Lines(col)
    payer.add("Плательщик", 7, True, gap=1)
    payer.pair(
        "Ф. И. О.",
        " ".join(p for p in (holder["last"], holder["first"], holder["middle"]) if p),
        7,
        bold=True,
    )
    payer.pair("Адрес", acc["address"], 7)
    payer.pair("Лицевой счёт", acc["number"], 7, bold=True)
    payer.pair(f"{LINK_CODE_LABEL}:", link_code_text(acc), 7, bold=True)
    payer.pair("Площадь", area, 7)
    payer.pair("Проживает", f"{acc['residents']} чел.", 7)
    payer.pair("Период", _month(s["period"]), 7)
    org = s["organization"]
    bank = org["bank"]
    executor = _Lines(right_w)
    executor.add("Исполнитель услуг", 7, True, gap=1)
    executor.add(org["name"], 7, True)
    executor.add(
        f"ИНН {org['inn']}  КПП {org['kpp']}" + (f"  ОГРН {org['ogrn']}" if org["ogrn"] else "")
    )
    executor.add(f"Адрес: {org['address']}")
    if org["phones"]:
        executor.add("Телефоны: " + "; ".join(org["phones"]))
    executor.add(
        "  ·  ".join(
            p
            for p in (
                f"E-mail: {org['email']}" if org["email"] else "",
                f"Сайт: {org['website']}" if org["website"] else "",
            )
            if p
        )
    )
    if org["hours"]:
        executor.add(f"Часы приёма: {org['hours']}")
    executor.add(f"Р/с {bank['account']} в {bank['name']}")
    executor.add(f"БИК {bank['bic']}  К/с {bank['corr']}")
    height = max(payer.height(), executor.height())
    flow.heading("1. Сведения о плательщике и исполнителе услуг", height)
    top = flow.y - 1
    payer.draw(flow.page, LEFT, top)
    executor.draw(flow.page, right_x, top)
    flow.y = top - height - 5


QR_SIZE = 86.0
QR_QUIET = 6.0


def _payee_lines(s: dict, payee: dict, width: float, size: float) -> _Lines:
    bank = payee["bank"]
    lines = _Lines(width)
    lines.add(f"ИНН {payee['inn']}" + (f"  КПП {payee['kpp']}" if payee["kpp"] else ""), size)
    lines.add(f"Р/с {bank['account']}", size)
    lines.add(f"Банк: {bank['name']}", size)
    lines.add(f"БИК {bank['bic']}", size)
    lines.add(f"К/с {bank['corr']}", size)
    lines.add(f"Лицевой счёт {s['account']['number']}", size)
    if payee["services"]:
        lines.add("За: " + ", ".join(payee["services"]), size, color=GREY)
    # The per-payee debt and advance (ledger): printed when the snapshot carries them.
    for key, label in PAYEE_BALANCE_FIELDS:
        value = payee.get(key)
        if value not in (None, "") and Decimal(value) != 0:
            lines.add(f"{label}: {_rub(value)}", size)
    amount = Decimal(payee["amount"])
    lines.add("Сумма к оплате:", size, color=GREY, gap=1.5)
    lines.add(_rub(payee["amount"]) if amount > 0 else DASH, 9, True)
    return lines


# Snapshot fields of a payee's own balance, when the ledger provides them (debt per payee).
PAYEE_BALANCE_FIELDS = (
    ("debt", "Задолженность на начало периода"),
    ("advance", "Аванс на начало периода"),
)


def _section2(flow: _Flow, s: dict) -> None:
    """2. Payment information per payee: bank details in full, the amount, the QR code.

    One box per payee: its name across the box, then the QR code with the details beside it.
    """
    payees = s["payees"]
    box_w = WIDTH / len(payees)
    size = 5.6 if len(payees) == 3 else 6.4
    tw = box_w - QR_SIZE - 2 * QR_QUIET - 3
    names = []
    for payee in payees:
        name = _Lines(box_w - 6)
        name.add(payee["name"], size + 0.8, True)
        names.append(name)
    name_h = max(n.height() for n in names) + 2
    columns = [_payee_lines(s, payee, tw, size) for payee in payees]
    height = name_h + max(QR_SIZE + 2 * QR_QUIET, max(c.height() for c in columns) + 6)
    flow.heading(
        "2. Информация для внесения платы получателям платежа · QR-код для оплаты в приложении "
        "банка (ГОСТ Р 56042-2014)",
        height,
    )
    page = flow.page
    top = flow.y - 1
    bottom = top - height
    segments = [(LEFT, top, RIGHT, top), (LEFT, bottom, RIGHT, bottom)]
    for k, (payee, name, lines) in enumerate(zip(payees, names, columns, strict=True)):
        x = LEFT + box_w * k
        segments.append((x, top, x, bottom))
        name.draw(page, x + 3, top - 1)
        body = top - name_h
        rows = qr.payment_qr_matrix(payee_qr_text(s, payee))
        page.qr.append(qr.qr_image(rows, x + QR_QUIET, body - QR_QUIET - QR_SIZE, QR_SIZE))
        lines.draw(page, x + QR_SIZE + 2 * QR_QUIET - 2, body - 2)
    segments.append((RIGHT, top, RIGHT, bottom))
    page.lines(segments, 0.6)
    flow.y = bottom - 5


def _section3(flow: _Flow, s: dict) -> None:
    """3. The calculation table with the form's columns and a complete totals row."""
    fixed = 22 + 34 + 30 + 34 + 38 + 34 + 40 + 30 + 36 + 34 + 40 + 36
    columns = (
        ("Вид услуги", WIDTH - fixed, "l"),
        ("Ед.\nизм.", 22, "c"),
        ("Объём\nиндивид.\nпотребл.", 34, "r"),
        ("Объём\nОДН", 30, "r"),
        ("Тариф,\nруб./ед.", 34, "r"),
        ("Размер\nплаты\nиндивид.", 38, "r"),
        ("Размер\nплаты\nОДН", 34, "r"),
        ("Всего\nначислено\nза период", 40, "r"),
        ("Повыш.\nкоэфф.,\nруб.", 30, "r"),
        ("Перерас-\nчёты\n(+/−)", 36, "r"),
        ("Льготы,\nсубсидии", 34, "r"),
        ("Итого\nк оплате\nиндивид.", 40, "r"),
        ("Итого\nк оплате\nОДН", 36, "r"),
    )
    notes = []
    rows = []
    for c in s["charges"]:
        service = c["service"]
        if c["explanation"]:
            notes.append(c["explanation"])
            service = f"{service} [{len(notes)}]"
        # Who provides each service is in section 2 (each payee's «За: …»); how its volume was
        # found stays beside it.
        detail = c["method"]
        rows.append(
            (
                (service, detail),
                c["unit"],
                _vol(c["volume"]),
                _vol(c["common_volume"]),
                _num(c["tariff"]) if c["tariff"] else DASH,
                _num(c.get("amount_individual")),
                _num(c.get("amount_common")),
                _num(c["charged"]),
                _num(c["coefficient_amount"]),
                _num(c["recalculations"]),
                _num(c["privileges"]),
                _num(c.get("total_individual")),
                _num(c.get("total_common")),
            )
        )
    t = s["totals"]
    total = (
        "Итого за период",
        "",
        "",
        "",
        "",
        _num(t.get("amount_individual")),
        _num(t.get("amount_common")),
        _num(t.get("charged")),
        _num(t.get("coefficient_amount")),
        _num(t["recalculations"]),
        _num(t.get("privileges")),
        _num(t.get("total_individual")),
        _num(t.get("total_common")),
    )
    table = _Table(columns, rows, total=total)
    flow.heading(
        "3. Расчёт размера платы за содержание жилого помещения и коммунальные услуги, руб.",
        table.head_h + table.rows[0][2],
    )
    flow.table(table)
    # Explanations of the lines (footnotes), then the account's totals.
    note_lines = _Lines(WIDTH - 250)
    for k, note in enumerate(notes, 1):
        note_lines.add(f"[{k}] {note}", SMALL, color=GREY)
    _totals(flow, s, note_lines)


def _totals(flow: _Flow, s: dict, notes: _Lines) -> None:
    box_w = 240
    t = s["totals"]
    opening = Decimal(t["opening"])
    lines = (
        ("Задолженность на начало периода" if opening >= 0 else "Аванс на начало периода",
         _rub(t["opening"] if opening >= 0 else str(-opening))),
        ("Начислено за период", _rub(t["charges"])),
        ("   в т. ч. перерасчёты", _rub(t["recalculations"])),
        ("Пени", _rub(t["penalties"])),
        ("Оплачено в периоде", _rub(t["payments"])),
    )  # fmt: skip
    height = max(len(lines) * 8.8 + 34, notes.height())
    flow.need(height)
    page, top = flow.page, flow.y
    notes.draw(page, LEFT, top)
    bx = RIGHT - box_w
    ty = top - 8
    for label, value in lines:
        page.text(bx + 2, ty, label, 7)
        page.text(RIGHT - 2, ty, value, 7, False, "r")
        ty -= 8.8
    ty -= 3
    page.rect(bx, ty - 5.5, box_w, 15)
    page.text(bx + 3, ty, "ИТОГО К ОПЛАТЕ", 8.5, True)
    page.text(RIGHT - 3, ty, _rub(t["total_due"]), 9.5, True, "r")
    ty -= 14
    page.text(bx + 3, ty, "Срок оплаты", 7)
    page.text(RIGHT - 3, ty, f"до {_date(s['due_date'])}", 7.5, True, "r")
    flow.y = min(ty - 6, top - notes.height() - 4)


def _section4(flow: _Flow, s: dict) -> None:
    """4. Reference: norms, the house's volumes (flats / common property), the flat's meters."""
    ref = s["reference"]
    half = (WIDTH - 10) / 2
    norms = None
    if ref["norms"]:
        norms = _Table(
            (
                ("Норматив потребления", half - 104, "l"),
                ("Ед.", 36, "c"),
                ("Индивид.", 34, "r"),
                ("ОДН", 34, "r"),
            ),
            [
                (n["service"], n["unit"], _vol(n["individual"]), _vol(n["common"]))
                for n in ref["norms"]
            ],  # fmt: skip
        )
    building = None
    if ref["building"]:
        width = half if norms else WIDTH
        building = _Table(
            (
                ("Общедомовой\nприбор учёта", width - 186, "l"),
                ("Показание", 40, "r"),
                ("Объём\nпо дому", 38, "r"),
                ("в т. ч.\nпомещения", 38, "r"),
                ("в т. ч. общее\nимущество", 44, "r"),
                ("Ед.", 26, "c"),
            ),
            [
                (
                    b["resource"],
                    _vol(b["reading"]),
                    _vol(b["volume"]),
                    _vol(b.get("flats")),
                    _vol(b.get("common_property")),
                    b["unit"],
                )
                for b in ref["building"]
            ],  # fmt: skip
        )
    meters_w = half if norms and building else WIDTH
    meters = _Table(
        (
            ("Индивидуальный\nприбор учёта", meters_w - 182, "l"),
            ("№ прибора", 54, "l"),
            ("Зона", 26, "c"),
            ("Предыдущие\nпоказания", 40, "r"),
            ("Текущие\nпоказания", 38, "r"),
            ("Ед.", 24, "c"),
        ),
        [
            (
                m["service"],
                m["serial"],
                m["zone"] or DASH,
                _vol(m["previous"]),
                _vol(m["current"]),
                m["unit"],
            )
            for m in s["meters"]
        ]  # fmt: skip
        or [("Приборы учёта не установлены", "", "", "", "", "")],
    )
    # Two columns when they fit on the page: norms and the flat's meters on the left, the
    # house's meters on the right; else one table after another (a table may go on overleaf).
    left = [t for t in (norms, meters) if t]
    right = [building] if building else []
    left_h = sum(t.height() + 3 for t in left)
    right_h = sum(t.height() + 3 for t in right)
    if norms and building and max(left_h, right_h) < PAGE_H / 2:
        flow.heading("4. Справочная информация", max(left_h, right_h))
        top = flow.y
        for column, x in ((left, LEFT), (right, LEFT + half + 10)):
            y = top
            for table in column:
                y = table.draw(flow.page, x, y) - 3
        flow.y = top - max(left_h, right_h)
        return
    first = (norms or building or meters).height()
    flow.heading("4. Справочная информация", first)
    for table in (norms, building, meters):
        if table:
            flow.table(table)


def _bill_change(flow: _Flow, change: tuple[str, list[str]] | None) -> None:
    """Section 4 goes on: why the sum changed against the previous issued month, if known."""
    if not change:
        return
    headline, causes = change
    lines = _Lines(WIDTH)
    lines.add(f"Почему изменилась сумма: {headline}", BODY, True)
    for cause in causes:
        lines.add(f"— {cause}", BODY, indent=6)
    flow.need(lines.height() + 3)
    flow.y = lines.draw(flow.page, LEFT, flow.y) - 3


def _section5(flow: _Flow, s: dict) -> None:
    """5. Recalculations with their reasons and months."""
    table = _Table(
        (
            ("Услуга", 130, "l"),
            ("За месяц", 62, "c"),
            ("Сумма, руб.", 56, "r"),
            ("Основание перерасчёта", WIDTH - 248, "l"),
        ),  # fmt: skip
        [
            (r["service"] or "Все услуги", _month(r["month"]), _num(r["amount"]), r["reason"])
            for r in s["recalculations"]
        ]  # fmt: skip
        or [("Перерасчётов нет", "", "", "")],
    )
    flow.heading("5. Сведения о перерасчётах (доначисления +, уменьшения −)", table.height())
    flow.table(table)


def _section6(flow: _Flow, s: dict) -> None:
    """6. Payment by instalments: the instalments granted, or the form's "none" wording."""
    instalments = s.get("instalments") or []
    if not instalments:
        flow.heading("6. Расчёт суммы к оплате с учётом рассрочки платежа", 9)
        flow.page.text(LEFT + 2, flow.y - 7, "Рассрочка не предоставлялась", BODY)
        flow.y -= 10
        return
    table = _Table(
        (
            ("Услуга", WIDTH - 180, "l"),
            ("Сумма платежа\nв этом месяце", 64, "r"),
            ("Осталось\nмесяцев", 52, "r"),
            ("Проценты за\nрассрочку, руб.", 64, "r"),
        ),  # fmt: skip
        [
            (i["service"], _num(i["amount"]), str(i["months"]), _num(i["interest"]))
            for i in instalments
        ],  # fmt: skip
    )
    flow.heading("6. Расчёт суммы к оплате с учётом рассрочки платежа", table.height())
    flow.table(table)


FOOTER = (
    "Квитанция сформирована автоматически. Вопросы по начислениям — исполнителю услуг "
    "по телефонам, указанным в разделе 1."
)
BOTTOM = MARGIN + 14


def _layout_fixed(flow: _Flow, s: dict) -> None:
    """The header and sections 1–4: the same whichever «why the sum changed» block follows."""
    _header(flow, s)
    _section1(flow, s)
    _section2(flow, s)
    _section3(flow, s)
    _section4(flow, s)


def _layout_rest(flow: _Flow, s: dict, change: tuple[str, list[str]] | None) -> None:
    """The «why the sum changed» block (if any), sections 5 and 6 and the notice."""
    _bill_change(flow, change)
    _section5(flow, s)
    _section6(flow, s)
    if s.get("notice"):
        notice = _Lines(WIDTH)
        notice.add(s["notice"], 6.8, True)
        flow.need(notice.height() + 6)
        flow.y = notice.draw(flow.page, LEFT, flow.y - 4)


def _change_variants(change: dict | None) -> list[tuple[str, list[str]] | None]:
    """The block whole, then shorter where the form leaves less room: the services' changes
    without their causes, then the headline alone."""
    if not change:
        return [None]
    causes = change["causes"]
    short = "; ".join(cause.split(" — ", 1)[0] for cause in causes)
    return [
        (change["headline"], causes),
        (change["headline"], [short] if short else []),
        (change["headline"], []),
    ]


def _fitted_layout(s: dict, names: dict[str, str]) -> _Flow:
    """Lay the form out (sections 1–6 in order).

    The block «why the sum changed» goes where the form leaves room: a receipt that fits one
    sheet without it keeps to one sheet (the block shortened, or left out when even its headline
    does not fit); a receipt of several sheets anyway prints it whole. Never cut. The part above
    the block is laid out once; only what follows it is tried again for each variant.
    """
    variants = _change_variants(s.get("change"))
    flow = _Flow(names, s)
    _layout_fixed(flow, s)
    mark = flow.mark()

    def pages_with(change: tuple[str, list[str]] | None) -> int:
        flow.rollback(mark)
        _layout_rest(flow, s, change)
        return len(flow.pages)

    if pages_with(variants[0]) == 1 or variants[0] is None:
        return flow
    # A shorter block on one sheet means the form without it is on one sheet too.
    for variant in variants[1:]:
        if pages_with(variant) == 1:
            return flow
    if pages_with(None) > 1:
        pages_with(variants[0])
    return flow


def _draw(canvas: Canvas, s: dict, names: dict[str, str]) -> None:
    """Lay the form out and write its pages to ``canvas``."""
    flow = _fitted_layout(s, names)
    count = len(flow.pages)
    for k, page in enumerate(flow.pages, 1):
        page.text(LEFT, MARGIN, FOOTER, 5.6, color=GREY, width=WIDTH - 50)
        if count > 1:
            page.text(RIGHT, MARGIN, f"Лист {k} из {count}", 5.6, color=GREY, align="r")
        page.flush(canvas)
        _end_page(canvas)


def _end_page(canvas: Canvas) -> None:
    canvas.showPage()
    # ReportLab wraps page streams in ASCII85 (rl_config.useA85, a process-wide switch) on top
    # of Flate; in pure Python that is a third of the time and 25 % more bytes. Binary Flate
    # only, set on this page alone.
    page = canvas._doc.Pages.pages[-1]
    page.Contents = pdfdoc.PDFStream(content=page.stream, filters=[_PAGE_FLATE])


class _PageFlate:
    """Flate at level 3 for page contents: half the time of the default level 6 for ~1 KB more
    per page (the embedded fonts are most of a receipt's ~50 KB)."""

    pdfname = "FlateDecode"

    def encode(self, text: str | bytes) -> bytes:
        return zlib.compress(text.encode("utf-8") if isinstance(text, str) else text, 3)


_PAGE_FLATE = _PageFlate()


def _new_canvas(buffer: io.BytesIO, s: dict) -> tuple[Canvas, dict[str, str]]:
    shared = fonts()
    # Our own font as the initial one: ReportLab adds no unused Helvetica to every receipt.
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1, initialFontName=REGULAR)
    canvas.setTitle(f"ЕПД № {s['number']}, ЛС {s['account']['number']}, {_month(s['period'])}")
    canvas.setAuthor(s["organization"]["name"])
    canvas.setCreator("Kvartplata")
    doc = canvas._doc
    # Resource names are fixed by the order fonts join the document: always the same order.
    names = {name: f"{font.start(doc)}" for name, font in shared.items()}
    return canvas, names


def render_receipt(snapshot: dict, *, validate: bool = True) -> bytes:
    """The payment document as PDF bytes (A4, more pages if needed); same snapshot → same bytes."""
    if validate:
        validate_snapshot(snapshot)
    buffer = io.BytesIO()
    canvas, names = _new_canvas(buffer, snapshot)
    _draw(canvas, snapshot, names)
    canvas.save()
    return buffer.getvalue()


def render_receipts(snapshots: Iterable[dict], *, validate: bool = True) -> Iterator[bytes]:
    """Render many receipts, one PDF each; fonts and subsets are shared across the batch."""
    fonts()
    for snapshot in snapshots:
        yield render_receipt(snapshot, validate=validate)
