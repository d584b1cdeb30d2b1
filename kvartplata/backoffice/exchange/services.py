"""The registry exchange as services: import a file (check, then write) and export one."""

import datetime
from pathlib import Path

from django.db import connection, transaction

from kvartplata.backoffice.exchange.dump import registry_tables
from kvartplata.backoffice.exchange.files import FileRefused, read_workbook, write_tables
from kvartplata.backoffice.exchange.load import Report, default_switch_month, registry_load
from kvartplata.lib.periods import period_label
from kvartplata.registry.models import Organization


def registry_import(
    *,
    organization: Organization,
    source: bytes | str | Path,
    filename: str = "",
    switch_month: datetime.date | None = None,
    dry_run: bool = False,
    progress=None,
) -> Report:
    """Read a registry file and load it into the organization; the report says what happened.

    A file that cannot be read as a whole (size, ZIP bomb, encoding, a sheet or column missing)
    gives a report with `error` and writes nothing, like a file with a refused line.
    """
    switch_month = switch_month or default_switch_month(organization)
    if switch_month is None:
        return Report(
            error="Укажите месяц перехода: первый месяц, который будет начисляться здесь.",
            dry_run=dry_run,
        )
    try:
        workbook = read_workbook(source, filename)
    except FileRefused as exc:
        return Report(error=str(exc), dry_run=dry_run)
    try:
        report = registry_load(
            organization=organization,
            workbook=workbook,
            switch_month=switch_month,
            dry_run=dry_run,
            progress=progress,
        )
    except FileRefused as exc:  # found while streaming the lines: everything is rolled back
        return Report(error=str(exc), dry_run=dry_run)
    finally:
        workbook.close()
    report.switch_month = period_label(switch_month)
    return report


def registry_export(*, organization: Organization, target: str | Path) -> None:
    """Write the organization's registry: `.xlsx` a workbook, `.zip` or a directory CSV files.

    The sheets are read as they are written, in one read-only transaction that sees one state
    of the registry throughout (REPEATABLE READ on PostgreSQL): no account refers to premises
    added after the premises sheet was written, and the reads' cursors live in it (a pooler in
    transaction mode keeps them).
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        write_tables(registry_tables(organization), target)
