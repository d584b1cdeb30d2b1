"""Payment QR code of the receipts: a fast byte-mode QR encoder and its drawing.

The text inside is the ГОСТ Р 56042-2014 payment text of ``kvartplata.lib.gost_qr``.

The encoder: segno evaluates all eight masks (≈ 13 ms of a 16 ms encode) and places modules one
by one in Python. A receipt needs one code per payee, so here the symbol is built from cached
per-version templates: function patterns (taken once from segno with the same version and mask,
so format/version information is exactly segno's) and the ordered list of data module positions
with the mask already folded in. Encoding then is the bit stream, Reed-Solomon as a table-driven
shift register on Python ints, and one C-level gather — about 0.2 ms. Every mask is valid per
ISO/IEC 18004; the mask is fixed (``MASK``) instead of chosen by penalty score. Tests compare the
matrices with segno's for the same mask and decode the rendered PDF with zbar.
"""

import operator
from functools import cache

import segno
from segno import consts as _segno_consts

from kvartplata.lib.gost_qr import HEADER, payment_bytes

__all__ = [
    "MASK",
    "draw_qr",
    "payment_qr_matrix",
    "qr_codewords",
    "qr_matrix_bytes",
    "qr_image",
]

MASK = 0
_ERROR = _segno_consts.ERROR_LEVEL_M
_BITS = tuple(bytes((b >> (7 - k)) & 1 for k in range(8)) for b in range(256))
_MASKS = (
    lambda i, j: (i + j) % 2 == 0,
    lambda i, j: i % 2 == 0,
    lambda i, j: j % 3 == 0,
    lambda i, j: (i + j) % 3 == 0,
    lambda i, j: (i // 2 + j // 3) % 2 == 0,
    lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
    lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
    lambda i, j: ((i + j) % 2 + (i * j) % 3) % 2 == 0,
)


def _gf_tables() -> tuple[list[int], list[int]]:
    exp, log = [0] * 512, [0] * 256
    x = 1
    for i in range(255):
        exp[i] = x
        log[x] = i
        x <<= 1
        if x & 0x100:
            x ^= 0x11D
    for i in range(255, 512):
        exp[i] = exp[i - 255]
    return exp, log


_EXP, _LOG = _gf_tables()


def _capacity(version: int) -> int:
    return sum(ec.num_blocks * ec.num_data for ec in _segno_consts.ECC[version][_ERROR])


@cache
def _rs_table(n: int) -> tuple[int, ...]:
    """For each lead byte, the product of the degree-n generator (sans x^n) as an n-byte int."""
    gen = [1]
    for i in range(n):
        nxt = [0] * (len(gen) + 1)
        for k, coef in enumerate(gen):
            nxt[k] ^= coef
            if coef:
                nxt[k + 1] ^= _EXP[_LOG[coef] + i]
        gen = nxt
    table = []
    for lead in range(256):
        if lead == 0:
            table.append(0)
            continue
        lg = _LOG[lead]
        prod = bytes(_EXP[lg + _LOG[c]] if c else 0 for c in gen[1:])
        table.append(int.from_bytes(prod, "big"))
    return tuple(table)


def _ecc(block: bytes, n: int) -> bytes:
    table = _rs_table(n)
    shift = 8 * (n - 1)
    keep = (1 << (8 * n)) - 1
    rem = 0
    for byte in block:
        rem = ((rem << 8) & keep) ^ table[(rem >> shift) ^ byte]
    return rem.to_bytes(n, "big")


def _version_for(length: int) -> int:
    for version in range(1, 41):
        header = 4 + (8 if version < 10 else 16)
        if header + 8 * length <= 8 * _capacity(version):
            return version
    raise ValueError(f"Слишком длинный текст для QR-кода: {length} байт.")


def qr_codewords(data: bytes) -> tuple[int, bytes]:
    """The version and the final interleaved codewords (data + EC) of byte-mode data, level M."""
    version = _version_for(len(data))
    capacity = _capacity(version)
    count_bits = 8 if version < 10 else 16
    bits = (0b0100 << count_bits | len(data)) << (8 * len(data)) | int.from_bytes(data, "big")
    nbits = 4 + count_bits + 8 * len(data)
    pad = min(4, 8 * capacity - nbits)  # terminator
    nbits += pad
    bits <<= pad
    align = -nbits % 8
    bits <<= align
    nbits += align
    message = bits.to_bytes(nbits // 8, "big")
    message += (b"\xec\x11" * capacity)[: capacity - len(message)]
    data_blocks, ec_blocks = [], []
    offset = 0
    for ec in _segno_consts.ECC[version][_ERROR]:
        for _ in range(ec.num_blocks):
            block = message[offset : offset + ec.num_data]
            offset += ec.num_data
            data_blocks.append(block)
            ec_blocks.append(_ecc(block, ec.num_total - ec.num_data))
    return version, _interleave(data_blocks) + _interleave(ec_blocks)


def _interleave(blocks: list[bytes]) -> bytes:
    """Codeword k of every block in turn; blocks of a longer group (one more data codeword,
    always the last groups) give their extra codeword at the end."""
    count = len(blocks)
    short = min(map(len, blocks))
    out = bytearray(count * short)
    for k, block in enumerate(blocks):
        out[k::count] = block[:short]
    out.extend(block[short] for block in blocks if len(block) > short)
    return bytes(out)


def _function_modules(version: int) -> list[list[bool]]:
    size = 17 + 4 * version
    fn = [[False] * size for _ in range(size)]

    def area(top: int, left: int, height: int, width: int) -> None:
        for i in range(max(top, 0), min(top + height, size)):
            for j in range(max(left, 0), min(left + width, size)):
                fn[i][j] = True

    for top, left in ((0, 0), (0, size - 8), (size - 8, 0)):  # finders, separators, format
        area(top, left, 8, 8)
    area(8, 0, 1, 9)  # format information
    area(0, 8, 9, 1)
    area(8, size - 8, 1, 8)
    area(size - 8, 8, 8, 1)  # incl. the dark module
    area(6, 0, 1, size)  # timing
    area(0, 6, size, 1)
    if version >= 2:
        pos = _segno_consts.ALIGNMENT_POS[version - 2]
        corners = {(pos[0], pos[0]), (pos[0], pos[-1]), (pos[-1], pos[0])}
        for i in pos:
            for j in pos:
                if (i, j) not in corners:
                    area(i - 2, j - 2, 5, 5)
    if version >= 7:
        area(0, size - 11, 6, 3)
        area(size - 11, 0, 3, 6)
    return fn


@cache
def _template(version: int, mask: int) -> tuple[operator.itemgetter, bytes, int, int]:
    """A gather over ``data bits + b"\\0\\1"`` giving the row-major matrix, and the mask bits."""
    size = 17 + 4 * version
    fn = _function_modules(version)
    # segno draws the function patterns, format and version information for us once.
    filler = b"\0" * (_capacity(version) - 3)
    reference = segno.make_qr(
        filler, error="m", mode="byte", version=version, mask=mask, boost_error=False
    )
    base = [list(row) for row in reference.matrix]
    positions = []
    upwards = True
    right = size - 1
    while right > 0:
        if right == 6:
            right -= 1  # the vertical timing pattern is skipped as a whole column
        rows = range(size - 1, -1, -1) if upwards else range(size)
        for i in rows:
            for j in (right, right - 1):
                if not fn[i][j]:
                    positions.append((i, j))
        upwards = not upwards
        right -= 2
    n = len(positions)
    index = {pos: k for k, pos in enumerate(positions)}
    gather = [
        index[(i, j)] if (i, j) in index else n + base[i][j]
        for i in range(size)
        for j in range(size)
    ]
    mask_fn = _MASKS[mask]
    mask_bits = bytes(1 if mask_fn(i, j) else 0 for i, j in positions)
    return (
        operator.itemgetter(*gather),
        mask_bits,
        size,
        n,
    )


def payment_qr_matrix(text: str, *, mask: int = MASK) -> tuple[bytes, ...]:
    """The QR symbol (level M, byte mode, no quiet zone) as rows of 0/1 bytes, top row first."""
    data = payment_bytes(text) if text.startswith(HEADER) else text.encode("utf-8")
    return qr_matrix_bytes(data, mask=mask)


def qr_matrix_bytes(data: bytes, *, mask: int = MASK) -> tuple[bytes, ...]:
    """The QR symbol of arbitrary bytes (byte mode, level M) as rows of 0/1 bytes."""
    version, codewords = qr_codewords(data)
    gather, mask_bits, size, n = _template(version, mask)
    stream = b"".join(map(_BITS.__getitem__, codewords))
    stream = stream.ljust(n, b"\0")  # remainder bits
    masked = (int.from_bytes(stream, "big") ^ int.from_bytes(mask_bits, "big")).to_bytes(n, "big")
    flat = bytes(gather(masked + b"\0\1"))
    return tuple(flat[k : k + size] for k in range(0, size * size, size))


def draw_qr(canvas, text: str, x: float, y: float, size: float) -> None:
    """Draw the code of ``text`` with its lower left corner at (x, y), ``size`` points wide.

    The quiet zone (4 modules) is the caller's white space around (x, y, size).
    """
    rows = payment_qr_matrix(text)
    canvas.addLiteral(qr_image(rows, x, y, size))


_BIT_DIGITS = bytes.maketrans(b"\0\1", b"01")


def qr_image(rows: tuple[bytes, ...], x: float, y: float, size: float) -> str:
    """The PDF content-stream operators that paint the dark modules of ``rows``.

    An inline image mask of one bit per module (1 = paint in black), scaled to ``size`` points
    without interpolation: every module stays a sharp square at any resolution, and the symbol
    takes ~1.5 KB of the page instead of ~20 KB of rectangles (a third of a receipt's rendering
    time went into writing and compressing them).
    """
    n = len(rows)
    pad = b"\0" * (-n % 8)
    bits = b"".join([row + pad for row in rows]).translate(_BIT_DIGITS)
    data = int(bits, 2).to_bytes(len(bits) // 8, "big").hex()
    return (
        f"q 0 g {size:.3f} 0 0 {size:.3f} {x:.3f} {y:.3f} cm\n"
        f"BI /W {n} /H {n} /BPC 1 /IM true /D [1 0] /F /AHx ID\n{data}>\nEI Q"
    )
