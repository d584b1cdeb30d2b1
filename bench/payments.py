"""Benchmark of the payment registry import: lines per second and peak memory.

Generates a registry of N lines for the accounts of an existing world (run `manage.py demo`
first) and imports it on the configured database (DATABASE_URL, or the SQLite file in DATA_DIR):

    .venv/bin/python bench/payments.py --lines 200000
    DATABASE_URL=postgres://... .venv/bin/python bench/payments.py --lines 1000000 --again

`--again` imports the same file a second time (every line is then a duplicate: nothing is added).

As a reference, the same payment rows and the ledger entries the import wrote for them are then
written once more the plainest way the database has — PostgreSQL: COPY into payments_payment and
billing_ledgerentry; SQLite: executemany of plain INSERTs — with the tables' indexes, triggers and
FOREIGN KEYs, whose checks (deferred to the commit by default; the import makes them at the end
of each COPY) are forced before the transaction is rolled back (`--no-reference` skips it). The
import does that and more: parsing, exactly-once, matching, the allocation and the balances. The
last line is the ratio the goal names (import / reference ≤ 1.5).
"""

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kvartplata.settings")
# DEBUG stays off as in production; a key of its own for the benchmark process.
os.environ.setdefault("SECRET_KEY", "bench-" + "not-a-secret-" * 4)


def generate(path: Path, numbers: list[str], lines: int, tag: str, unmatched: float) -> None:
    """A registry in the demo bank's layout, cp1251, with its footer."""
    rng = random.Random(lines)
    total = 0
    with open(path, "w", encoding="cp1251", newline="\n") as out:
        chunk = []
        for i in range(lines):
            number = numbers[i % len(numbers)] if rng.random() >= unmatched else "99" + str(i)
            kopecks = rng.randrange(10_000, 900_000)
            total += kopecks
            day, second = 1 + i % 20, i % 86_400
            chunk.append(
                f"{day:02d}.11.2026 {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d};"
                f"{tag}-{i:09d};{number};Иванов Иван Иванович;г. Рязань, ул. Ленина, д. 10, "
                f"кв. {i % 300 + 1};;{kopecks // 100}.{kopecks % 100:02d};0.00\n"
            )
            if len(chunk) >= 10_000:
                out.write("".join(chunk))
                chunk = []
        out.write("".join(chunk))
        out.write(f"={lines};{total // 100}.{total % 100:02d};0.00\n")


def cpu_seconds() -> tuple[float, float | None]:
    """CPU seconds used so far by this process (every thread) and by its database server
    process (PostgreSQL on this machine; None where /proc does not show it): on a loaded
    machine these compare two runs better than the wall clock."""
    from django.db import connection

    usage = resource.getrusage(resource.RUSAGE_SELF)
    server = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            server = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            server = None
    return usage.ru_utime + usage.ru_stime, server


def _cpu_minus(after, before) -> tuple[float, float | None]:
    server = None if None in (after[1], before[1]) else after[1] - before[1]
    return after[0] - before[0], server


def cpu_text(before, after) -> str:
    client = after[0] - before[0]
    if before[1] is None or after[1] is None:
        return f"CPU: this process {client:.1f} s"
    return f"CPU: this process {client:.1f} s, database server {after[1] - before[1]:.1f} s"


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def reference(path: Path, bank, payment_file) -> tuple[int, int, dict[str, float]]:
    """Write the file's payment rows and their ledger entries once more, plainly, and roll back:
    (payment rows, ledger rows, seconds of each part: payment rows, ledger entries, the deferred
    FOREIGN KEY checks; CPU seconds of this process and of the server in those parts)."""
    from django.db import connection, transaction

    from kvartplata.billing import ledger
    from kvartplata.billing.services import current_period
    from kvartplata.lib.db import bulk_insert
    from kvartplata.payments import bulk
    from kvartplata.payments.parsing import Summary, read_blocks
    from kvartplata.payments.services import BATCH, layout_of

    period = current_period(bank.organization)
    summary = Summary()
    with transaction.atomic():
        writer = bulk.Writer.for_connection(
            organization_id=bank.organization_id,
            bank_id=bank.pk,
            file_id=payment_file.pk,
            accounts=bulk.Accounts(bank.organization_id, period.pk),
        )
        prepared = []
        with open(path, "rb") as stream:
            for block in read_blocks(stream, layout_of(bank), summary=summary, block_lines=BATCH):
                block.keys = [key + "~ref" for key in block.keys]  # not the imported keys
                prepared.append(writer.prepare(block))
        rows = sum(len(p) if isinstance(p, list) else p[0] for p in prepared)
        cpu_before = cpu_seconds()
        started = time.perf_counter()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                sql = f"COPY payments_payment ({bulk.COPY_COLUMNS}) FROM STDIN"
                with cursor.cursor.copy(sql) as copy:
                    for _, _, text, _ in prepared:
                        copy.write(text)
            else:
                sql = bulk.SQLITE_INSERT_SQL.split("ON CONFLICT")[0]
                for part in prepared:
                    connection.connection.executemany(sql, part)
        parts = {"payment rows": time.perf_counter() - started}
        cpu_spent = _cpu_minus(cpu_seconds(), cpu_before)
        # The import's ledger entries of the same payments, read untimed as COPY text and written
        # once more by COPY into the table, with its indexes, triggers and constraints.
        columns = ", ".join(ledger.ENTRY_COLUMNS)
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, spans two blocks
        with connection.cursor() as cursor:
            select = (
                f"SELECT {columns} FROM billing_ledgerentry WHERE kind = 'payment' AND source_id "
                f"IN (SELECT id FROM payments_payment WHERE file_id = {int(payment_file.pk)})"
            )
            if connection.vendor == "postgresql":
                entries = 0
                with cursor.cursor.copy(f"COPY ({select}) TO STDOUT") as out:  # noqa: S608
                    for data in out:
                        entries += bytes(data).count(b"\n")
                        spool.write(data)
                spool.seek(0)
            else:
                cursor.execute(select)  # noqa: S608
                entries_rows = cursor.fetchall()
                entries = len(entries_rows)
        cpu_before = cpu_seconds()
        started = time.perf_counter()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                sql = f"COPY billing_ledgerentry ({columns}) FROM STDIN"  # noqa: S608
                with cursor.cursor.copy(sql) as copy:
                    while data := spool.read(1 << 20):
                        copy.write(data)
                parts["ledger entries"] = time.perf_counter() - started
                # The FOREIGN KEYs are checked at commit (deferred); the import pays for that
                # check, so the reference does too, before it rolls back.
                started = time.perf_counter()
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                parts["foreign key checks"] = time.perf_counter() - started
        else:
            bulk_insert("billing_ledgerentry", ledger.ENTRY_COLUMNS, entries_rows)
            parts["ledger entries"] = time.perf_counter() - started
        cpu_after = cpu_seconds()
        spool.close()
        transaction.set_rollback(True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM payments_payment")  # the rolled-back rows, not timed
            cursor.execute("VACUUM billing_ledgerentry")
    spent = _cpu_minus(cpu_after, cpu_before)
    cpu = (
        cpu_spent[0] + spent[0],
        None if None in (cpu_spent[1], spent[1]) else cpu_spent[1] + spent[1],
    )
    return rows, entries, parts, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--bank", default="sber")
    parser.add_argument("--unmatched", type=float, default=0.01, help="share of unknown accounts")
    parser.add_argument("--again", action="store_true", help="import the same file twice")
    parser.add_argument("--no-reference", action="store_true", help="skip the plain write")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from kvartplata.payments.models import Bank, PaymentFile
    from kvartplata.payments.services import payment_file_import

    settings.PAYMENTS_MAX_FILE_BYTES = 10 * 1024**3  # the bench measures speed, not the limit
    bank = Bank.objects.select_related("organization").get(code=args.bank)
    numbers = list(bank.organization.accounts.values_list("number", flat=True))
    tag = f"bench{int(time.time())}"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "registry.txt"
        started = time.perf_counter()
        generate(path, numbers, args.lines, tag, args.unmatched)
        size = path.stat().st_size
        print(
            f"database: {connection.vendor}; accounts: {len(numbers)}; lines: {args.lines}; "
            f"file: {size / 1024 / 1024:.1f} MB, generated in {time.perf_counter() - started:.1f} s"
        )
        runs = 2 if args.again else 1
        payment_file = None
        for run in range(runs):
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            cpu_before = cpu_seconds()
            payment_file = PaymentFile.objects.create(bank=bank, name=path.name, size=size)
            label = "first import" if run == 0 else "same file again"
            print(f"{label}: start, {load()}", flush=True)
            started = time.perf_counter()
            payment_file = payment_file_import(payment_file_id=payment_file.pk, path=path)
            elapsed = time.perf_counter() - started
            if run == 0:
                first_elapsed, first_file = elapsed, payment_file
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            cpu_after = cpu_seconds()
            if payment_file.status != PaymentFile.Status.IMPORTED:
                print(payment_file.error)
                sys.exit(1)
            print(
                f"{label}: {elapsed:.1f} s, {args.lines / elapsed:,.0f} lines/s; new "
                f"{payment_file.lines_imported}, duplicates {payment_file.lines_duplicate}, "
                f"unmatched {payment_file.lines_unmatched}; peak RSS {rss_after / 1024:.0f} MB "
                f"(+{(rss_after - rss_before) / 1024:.0f} MB during the import); "
                f"{cpu_text(cpu_before, cpu_after)}; {load()}",
                flush=True,
            )
        if not args.no_reference:
            rows, entries, parts, cpu = reference(path, bank, first_file)
            plain_s = sum(parts.values())
            plain = "COPY" if connection.vendor == "postgresql" else "executemany INSERT"
            print(
                f"reference, the same {rows} payment rows and their {entries} ledger entries by "
                f"{plain} into payments_payment and billing_ledgerentry, with their indexes, "
                f"triggers and FOREIGN KEYs (rolled back): {plain_s:.1f} s ("
                + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in parts.items())
                + f"), {rows / plain_s:,.0f} lines/s; {cpu_text((0, 0), cpu)}; {load()}"
            )
            print(
                f"first import / reference: {first_elapsed / plain_s:.2f}× "
                f"(goal ≤ 1.5×; {first_elapsed:.1f} s / {plain_s:.1f} s)"
            )


if __name__ == "__main__":
    main()
