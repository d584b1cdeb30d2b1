"""A report as a download: CSV streamed row by row, .xlsx written by XlsxWriter in its
constant-memory mode (one row in memory at a time) to a temporary file that is then streamed.

Every text cell goes through `lib.exports.safe_cell` (no formula injection); numbers stay
numbers.
"""

import csv
import tempfile
from collections.abc import Iterator
from decimal import Decimal

import xlsxwriter
from django.http import FileResponse, StreamingHttpResponse

from kvartplata.backoffice.reports import MONEY, Report, rows_of
from kvartplata.lib.exports import safe_cell, safe_row


class _Echo:
    def write(self, value):
        return value


def _csv_cell(value):
    if isinstance(value, Decimal):
        return str(value).replace(".", ",")  # money keeps its two places: «-150,00»
    return "" if value is None else value


def csv_response(report: Report, filename: str) -> StreamingHttpResponse:
    """CSV for Russian spreadsheets: UTF-8 with BOM, «;» between cells, decimal comma."""
    writer = csv.writer(_Echo(), delimiter=";")

    def lines() -> Iterator[str]:
        yield "\ufeff"
        for row in rows_of(report):
            yield writer.writerow([_csv_cell(v) for v in safe_row(row)])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(report: Report, filename: str) -> FileResponse:
    # A temporary file that disappears when the response is closed.
    spool = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - the response closes it
    book = xlsxwriter.Workbook(spool, {"constant_memory": True, "in_memory": False})
    sheet = book.add_worksheet("Отчёт")
    bold = book.add_format({"bold": True})
    money = book.add_format({"num_format": "#,##0.00"})
    sheet.write_row(0, 0, [report.title], bold)
    sheet.write_row(2, 0, [str(c.label) for c in report.columns], bold)
    # One writer per column, chosen once: 100 000 rows are a million cells.
    text, number = sheet.write_string, sheet.write_number
    writers = [(col, column.kind) for col, column in enumerate(report.columns)]
    row_no = 2
    for row in (*report.rows, *([report.totals] if report.totals else [])):
        row_no += 1
        for (col, kind), value in zip(writers, row, strict=False):
            if value is None or value == "":
                continue
            if isinstance(value, Decimal):
                number(row_no, col, float(value), money if kind == MONEY else None)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                number(row_no, col, value)
            else:
                text(row_no, col, safe_cell(value))
    book.close()
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=f"{filename}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
