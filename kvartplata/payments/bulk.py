"""Writing registry lines into payments_payment, each natural key once.

PostgreSQL, per block of lines (a few MB of the file):

* the fast way — `COPY payments_payment FROM STDIN` inside a savepoint: when no key of the block
  exists yet (a new file: the usual case) every row goes in at COPY speed;
* the safe way — when the COPY hits the unique key (a file imported again, a line repeated), the
  savepoint is rolled back and the block goes through a staging table and
  `INSERT … SELECT … ORDER BY line ON CONFLICT DO NOTHING`: the first line of a key wins, the
  rest count as repeats. Blocks written the fast way had no conflict at all, so both ways give
  exactly what `ON CONFLICT DO NOTHING` over the whole file would.

SQLite: `INSERT … ON CONFLICT DO NOTHING`, executemany, in file order.

Account numbers are matched in Python against the organization's accounts (one dictionary,
loaded once per import): open accounts match; unknown and closed ones wait as unmatched; a
number whose leading zeros the bank dropped is restored when that is unambiguous.
"""

from itertools import repeat

from django.db import connection, transaction

from kvartplata.payments.parsing import Block, interleave

STAGE = "payments_stage"
COPY_COLUMNS = (
    "natural_key, account_number, payer_name, address, paid_at, amount, commission, for_month, "
    "account_id, status, period_id, organization_id, bank_id, file_id, channel"
)
STAGE_SQL = (
    f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (natural_key text, account_number text, "
    "payer_name text, address text, paid_at timestamptz, amount numeric(14, 2), "
    "commission numeric(14, 2), for_month date, account_id bigint, status text, "
    "period_id bigint, line_no bigint) ON COMMIT DROP"
)
STAGE_INSERT_SQL = f"""
    WITH added AS (
        INSERT INTO payments_payment (
            organization_id, bank_id, file_id, natural_key, account_id, account_number,
            payer_name, address, paid_at, amount, commission, for_month, channel, status, period_id
        )
        SELECT %s, %s, %s, natural_key, account_id, account_number, payer_name, address,
            paid_at, amount, commission, for_month, 'bank', status, period_id
        FROM {STAGE}
        WHERE true
        ORDER BY line_no
        ON CONFLICT (organization_id, bank_id, natural_key) DO NOTHING
        RETURNING account_id
    )
    SELECT count(*), count(*) FILTER (WHERE account_id IS NULL) FROM added
"""  # noqa: S608 -- table names are constants; values go as parameters
SQLITE_INSERT_SQL = """
    INSERT INTO payments_payment (
        natural_key, account_number, payer_name, address, paid_at, amount, commission,
        for_month, account_id, status, period_id, organization_id, bank_id, file_id, channel
    )
    VALUES (?, ?, ?, ?, datetime(? || ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, 'bank')
    ON CONFLICT (organization_id, bank_id, natural_key) DO NOTHING
"""
NULL = "\\N"


def tune_session() -> None:
    """For the import's transaction: the statements are few and big; compiling them (JIT)
    costs more than it saves here, and sorts and hashes of a whole file want some memory.

    The FOREIGN KEYs (deferred to the commit by default) are checked at the end of each COPY
    instead: the same checks, but done by the server while this process parses the next block
    or allocates the next batch, not all at once at the commit after everything else (millions
    of queued checks, which also hold the server's memory until then)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Accounts:
    """The organization's account numbers, for matching the lines of a registry."""

    def __init__(self, organization_id: int, period_id: int):
        self.period_id = period_id
        self.open: dict[str, int] = {}
        self.known: set[str] = set()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT number, id, closed_on IS NULL FROM registry_personalaccount "
                "WHERE organization_id = %s",
                [organization_id],
            )
            for number, account_id, is_open in cursor.fetchall():
                self.known.add(number)
                if is_open:
                    self.open[number] = account_id
        lengths = {len(number) for number in self.known}
        # Banks often drop the leading zeros of account numbers: restore them where unambiguous.
        self.pad_to = lengths.pop() if len(lengths) == 1 else None
        self._copy_text: dict[str, str] | None = None

    def restore(self, numbers: list[str]) -> list[str]:
        """The numbers with dropped leading zeros put back (a new list only if any changed)."""
        pad_to, known = self.pad_to, self.known
        if not pad_to:
            return numbers
        changed = None
        for i, found in enumerate(map(known.__contains__, numbers)):
            if found:
                continue
            number = numbers[i]
            if number.isdigit() and len(number) < pad_to and number.zfill(pad_to) in known:
                if changed is None:
                    changed = list(numbers)
                changed[i] = number.zfill(pad_to)
        return numbers if changed is None else changed

    def copy_text(self) -> dict[str, str]:
        """number → "account id, status, period" as COPY text (tab-separated)."""
        if self._copy_text is None:
            self._copy_text = {
                number: f"{account_id}\tmatched\t{self.period_id}"
                for number, account_id in self.open.items()
            }
        return self._copy_text


UNMATCHED_TEXT = f"{NULL}\tunmatched\t{NULL}"


def _copy_escape(value: str) -> str:
    # COPY's text format: backslash, tab and line breaks must be escaped inside a value.
    if "\\" in value or "\t" in value or "\r" in value or "\n" in value:
        value = (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\r", "\\r")
            .replace("\n", "\\n")
        )
    return value


class Writer:
    """Writes the blocks of one registry file; counts what went in."""

    def __init__(self, *, organization_id: int, bank_id: int, file_id: int, accounts: Accounts):
        self.organization_id = organization_id
        self.bank_id = bank_id
        self.file_id = file_id
        self.accounts = accounts
        self.inserted = 0
        self.unmatched = 0

    @staticmethod
    def for_connection(**kwargs) -> "Writer":
        if connection.vendor == "postgresql":
            return PostgresWriter(**kwargs)
        return SqliteWriter(**kwargs)

    def prepare(self, block: Block):
        """What `write` needs, made without the database (it may run in another thread)."""
        raise NotImplementedError

    def write(self, prepared) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Drop what the writer made for itself."""


class PostgresWriter(Writer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.constants = f"{self.organization_id}\t{self.bank_id}\t{self.file_id}\tbank"
        self.fast_blocks = 0
        self.safe_blocks = 0

    def prepare(self, block: Block):
        n = len(block)
        numbers = self.accounts.restore(block.numbers)
        matches = list(map(self.accounts.copy_text().get, numbers, repeat(UNMATCHED_TEXT, n)))
        unmatched = matches.count(UNMATCHED_TEXT)
        texts = [block.keys, numbers, block.payers, block.addresses]
        if block.escape:
            texts = [list(map(_copy_escape, column)) for column in texts]
        months = block.months
        if months and months[0] is None and months.count(None) == n:
            months = [NULL] * n
        elif None in months:
            months = [NULL if month is None else month for month in months]
        paid_at = interleave([block.paid_at, block.offsets], "", "\t")
        rows = interleave(
            [
                *texts,
                paid_at[:-1].split("\t") if n else [],
                block.amounts,
                block.commissions,
                months,
                matches,
                [self.constants] * n,
            ],
            "\t",
            "\n",
        )
        return n, unmatched, rows.encode(), block.line_nos

    def write(self, prepared) -> None:
        n, unmatched, rows, line_nos = prepared
        if not n:
            return
        import psycopg

        try:
            with transaction.atomic(), connection.cursor() as cursor:
                sql = f"COPY payments_payment ({COPY_COLUMNS}) FROM STDIN"
                with cursor.cursor.copy(sql) as copy:
                    copy.write(rows)
        except psycopg.errors.UniqueViolation:
            self._write_safe(rows, line_nos)
            self.safe_blocks += 1
            return
        self.fast_blocks += 1
        self.inserted += n
        self.unmatched += unmatched

    def _write_safe(self, rows: bytes, line_nos: list[int]) -> None:
        """Through the staging table: the first line of a key wins, known keys are skipped."""
        # The same rows with the line number appended: the constants column gives way to it.
        constants = "\t" + self.constants + "\n"
        lines = rows.decode().split(constants)[:-1]
        staged = interleave([lines, list(map(str, line_nos))], "\t", "\n")
        with connection.cursor() as cursor:
            cursor.execute(STAGE_SQL)
            cursor.execute(f"TRUNCATE {STAGE}")
            with cursor.cursor.copy(f"COPY {STAGE} FROM STDIN") as copy:  # noqa: S608
                copy.write(staged)
            cursor.execute(STAGE_INSERT_SQL, [self.organization_id, self.bank_id, self.file_id])
            inserted, unmatched = cursor.fetchone()
        self.inserted += inserted
        self.unmatched += unmatched


class SqliteWriter(Writer):
    def prepare(self, block: Block):
        n = len(block)
        numbers = self.accounts.restore(block.numbers)
        ids = list(map(self.accounts.open.get, numbers))
        period = self.accounts.period_id
        return list(
            zip(
                block.keys,
                numbers,
                block.payers,
                block.addresses,
                block.paid_at,
                block.offsets,
                block.amounts,
                block.commissions,
                block.months,
                ids,
                ["unmatched" if i is None else "matched" for i in ids],
                [None if i is None else period for i in ids],
                repeat(self.organization_id, n),
                repeat(self.bank_id, n),
                repeat(self.file_id, n),
                strict=False,
            )
        )

    def write(self, prepared) -> None:
        if not prepared:
            return
        connection.ensure_connection()
        cursor = connection.connection.executemany(SQLITE_INSERT_SQL, prepared)
        self.inserted += cursor.rowcount

    def close(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM payments_payment WHERE file_id = %s AND account_id IS NULL",
                [self.file_id],
            )
            self.unmatched = cursor.fetchone()[0]
