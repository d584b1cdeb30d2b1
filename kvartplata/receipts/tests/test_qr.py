"""Tests of the receipts' fast QR encoder: segno's function patterns, codes decoded with zbar."""

import os
import re
import shutil
import subprocess

import pytest
import segno

from kvartplata.lib.gost_qr import payment_text
from kvartplata.lib.tests.test_gost_qr import example_fields
from kvartplata.receipts import qr


def zbar_decode(path) -> list[str]:
    """Decode every QR code in an image with zbar, as texts in the encoding their header names.

    zbar guesses a charset for byte-mode data and would turn windows-1251 into Latin-1
    mojibake; ``-Sbinary`` makes it print the raw bytes, which we decode ourselves.
    """
    if not shutil.which("zbarimg"):
        if os.environ.get("KVARTPLATA_REQUIRE_BROWSER") == "1":
            pytest.fail("zbarimg (Debian package zbar-tools) is required")
        pytest.skip("zbarimg (Debian package zbar-tools) is not installed")
    result = subprocess.run(  # noqa: S603 - fixed argv of a local tool
        [shutil.which("zbarimg"), "--raw", "-q", "--nodbus", "-Sbinary", str(path)],
        capture_output=True,
        check=False,
        timeout=60,
    )
    # In binary mode zbar prints the symbols back to back (a newline only at the very end), so
    # split at each header; our texts contain no other "ST0001" and no newline.
    chunks = [c for c in re.split(rb"(?=ST0001[123])", result.stdout.rstrip(b"\n")) if c]
    codecs = {"1": "cp1251", "2": "utf-8", "3": "koi8-r"}
    texts = [chunk.decode(codecs[chr(chunk[6])]) for chunk in chunks]
    return texts


def write_pbm(rows, path, scale=6, border=4):
    n = len(rows)
    with open(path, "w") as out:
        side = (n + 2 * border) * scale
        out.write(f"P1\n{side} {side}\n")
        for i in range(-border, n + border):
            line = "".join(
                ("1" if 0 <= i < n and 0 <= j < n and rows[i][j] else "0") * scale
                for j in range(-border, n + border)
            )
            out.write((line + "\n") * scale)


@pytest.mark.parametrize("length", [1, 14, 15, 60, 200, 386, 700, 1200])
def test_it_keeps_segnos_function_patterns(length):
    data = bytes((k * 37 + length) % 256 for k in range(length))
    for mask in range(8):
        ours = qr.qr_matrix_bytes(data, mask=mask)
        reference = segno.make_qr(data, error="m", mode="byte", mask=mask, boost_error=False)
        assert len(ours) == reference.symbol_size(border=0)[0]
        function = qr._function_modules(reference.version)
        theirs = [bytes(row) for row in reference.matrix]
        assert all(
            ours[i][j] == theirs[i][j]
            for i in range(len(ours))
            for j in range(len(ours))
            if function[i][j]
        )


@pytest.mark.parametrize("mask", range(8))
def test_it_encodes_codes_that_zbar_decodes_exactly(tmp_path, mask):
    fields = {**example_fields(), "Purpose": f"Оплата ЖКУ, маска {mask}", "PaymPeriod": "032026"}
    text = payment_text(fields)
    path = tmp_path / "code.pbm"
    write_pbm(qr.payment_qr_matrix(text, mask=mask), path)
    assert zbar_decode(path) == [text]


@pytest.mark.parametrize("length", [5, 40, 150, 320, 900])
def test_it_decodes_texts_of_many_lengths(tmp_path, length):
    # Any text with the header encodes; the field limits of payment_text do not apply here.
    text = "ST00011|Purpose=" + ("Оплата по счёту " * 80)[:length].strip()
    path = tmp_path / "code.pbm"
    write_pbm(qr.payment_qr_matrix(text), path, scale=3)
    assert zbar_decode(path) == [text]


def test_it_draws_the_modules_as_one_image_mask_of_a_bit_each():
    rows = (b"\x01\x01\x00\x01", b"\x00\x00\x00\x00", b"\x01\x01\x01\x01", b"\x00\x01\x00\x00")
    ops = qr.qr_image(rows, 10, 20, 40)
    # Rows padded to whole bytes, top row first; 1 paints (Decode [1 0]), in hex.
    assert ops.splitlines() == [
        "q 0 g 40.000 0 0 40.000 10.000 20.000 cm",
        "BI /W 4 /H 4 /BPC 1 /IM true /D [1 0] /F /AHx ID",
        "d000f040>",
        "EI Q",
    ]
