"""Set-based writing of registry lines: a staging table, then one INSERT … ON CONFLICT per batch.

Rows are copied into a temporary table (COPY on PostgreSQL, executemany on SQLite) and moved into
payments_payment by `INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`: the unique natural key
decides what is new, on both backends and under concurrent imports, and RETURNING tells exactly
which rows went in, so only those reach the ledger.
"""

from collections.abc import Sequence

from django.db import connection

from kvartplata.payments.parsing import Row, money_text

STAGE = "payments_stage"
STAGE_COLUMNS = (
    "natural_key text, account_number text, payer_name text, address text, "
    "paid_at {timestamp}, amount numeric(12, 2), commission numeric(12, 2), for_month date"
)
INSERT_SQL = f"""
    INSERT INTO payments_payment (
        organization_id, bank_id, file_id, natural_key, account_id, account_number, payer_name,
        address, paid_at, amount, commission, for_month, channel, status, period_id
    )
    SELECT CAST(%s AS bigint), CAST(%s AS bigint), CAST(%s AS bigint), s.natural_key, a.id,
        s.account_number, s.payer_name, s.address, s.paid_at, s.amount, s.commission, s.for_month,
        'bank',
        CASE WHEN a.id IS NULL THEN 'unmatched' ELSE 'matched' END,
        CASE WHEN a.id IS NULL THEN NULL ELSE CAST(%s AS bigint) END
    FROM {STAGE} s
    LEFT JOIN registry_personalaccount a
        ON a.organization_id = %s AND a.number = s.account_number AND a.closed_on IS NULL
    WHERE true
    ORDER BY s.natural_key
    ON CONFLICT (organization_id, bank_id, natural_key) DO NOTHING
    RETURNING id, natural_key, account_id
"""  # noqa: S608 -- table names are constants; values go as parameters


def stage_open() -> None:
    """Create (or empty) the connection's staging table; it lives until the transaction ends."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = STAGE_COLUMNS.format(timestamp="timestamptz")
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} ({columns}) ON COMMIT DROP")
            cursor.execute(f"TRUNCATE {STAGE}")
        else:
            columns = STAGE_COLUMNS.format(timestamp="text")
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} ({columns})")
            cursor.execute(f"DELETE FROM {STAGE}")  # noqa: S608


def stage_close() -> None:
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS temp.{STAGE}")


def _copy_text(value: str) -> str:
    # COPY's text format: backslash, tab and line breaks must be escaped inside a value.
    if "\\" in value or "\t" in value or "\r" in value or "\n" in value:
        value = (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\r", "\\r")
            .replace("\n", "\\n")
        )
    return value


def _load_postgresql(rows: Sequence[Row]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {STAGE}")
        with cursor.cursor.copy(f"COPY {STAGE} FROM STDIN") as copy:  # noqa: S608
            chunk = []
            for r in rows:
                chunk.append(
                    f"{_copy_text(r.natural_key)}\t{_copy_text(r.account_number)}\t"
                    f"{_copy_text(r.payer_name)}\t{_copy_text(r.address)}\t"
                    f"{r.paid_at_utc}+00\t{money_text(r.amount_kopecks)}\t"
                    f"{money_text(r.commission_kopecks)}\t"
                    f"{r.for_month.isoformat() if r.for_month else chr(92) + 'N'}\n"
                )
                if len(chunk) >= 5000:
                    copy.write("".join(chunk))
                    chunk = []
            if chunk:
                copy.write("".join(chunk))


def _load_sqlite(rows: Sequence[Row]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {STAGE}")  # noqa: S608
    connection.connection.executemany(
        f"INSERT INTO {STAGE} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
        (
            (
                r.natural_key,
                r.account_number,
                r.payer_name,
                r.address,
                str(r.paid_at_utc),
                money_text(r.amount_kopecks),
                money_text(r.commission_kopecks),
                r.for_month.isoformat() if r.for_month else None,
            )
            for r in rows
        ),
    )


def insert_new(
    rows: Sequence[Row], *, organization_id: int, bank_id: int, file_id: int, period_id: int
) -> list[tuple[int, str, int | None]]:
    """Insert the rows whose natural key is new; returns (id, natural key, account id) of those.

    Rows must have distinct natural keys (the caller drops repeats inside a batch).
    """
    if not rows:
        return []
    if connection.vendor == "postgresql":
        _load_postgresql(rows)
    else:
        _load_sqlite(rows)
    with connection.cursor() as cursor:
        cursor.execute(INSERT_SQL, [organization_id, bank_id, file_id, period_id, organization_id])
        return cursor.fetchall()
