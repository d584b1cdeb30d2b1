"""Benchmark of the payment registry import: lines per second and peak memory.

Generates a registry of N lines for the accounts of an existing world (run `manage.py demo`
first) and imports it on the configured database (DATABASE_URL, or the SQLite file in DATA_DIR):

    .venv/bin/python bench/payments.py --lines 200000
    DATABASE_URL=postgres://... .venv/bin/python bench/payments.py --lines 1000000 --again

`--again` imports the same file a second time (every line is then a duplicate: nothing is added).

As a reference, the same payment rows and the ledger entries the import wrote for them are then
written once more the plainest way the database has — PostgreSQL: COPY into payments_payment and
billing_ledgerentry; SQLite: executemany of plain INSERTs — in a transaction that is rolled back
(`--no-reference` skips it). The import does that and more: parsing, exactly-once, matching, the
allocation and the balances.
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


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def reference(path: Path, bank, payment_file) -> tuple[int, int, float]:
    """Write the file's payment rows and their ledger entries once more, plainly, and roll back:
    (payment rows, ledger rows, seconds)."""
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
        elapsed = time.perf_counter() - started
        # The import's ledger entries of the same payments, read untimed and written once more
        # by the same plain path (COPY / executemany) with the table's indexes and constraints.
        columns = ", ".join(ledger.ENTRY_COLUMNS)
        with connection.cursor() as cursor:
            cursor.execute(  # noqa: S608 - column names are the module's constants
                f"SELECT {columns} FROM billing_ledgerentry WHERE kind = 'payment' AND source_id "
                "IN (SELECT id FROM payments_payment WHERE file_id = %s)",
                [payment_file.pk],
            )
            entries = cursor.fetchall()
        started = time.perf_counter()
        bulk_insert("billing_ledgerentry", ledger.ENTRY_COLUMNS, entries)
        elapsed += time.perf_counter() - started
        transaction.set_rollback(True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM payments_payment")  # the rolled-back rows, not timed
            cursor.execute("VACUUM billing_ledgerentry")
    return rows, len(entries), elapsed


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
            payment_file = PaymentFile.objects.create(bank=bank, name=path.name, size=size)
            label = "first import" if run == 0 else "same file again"
            print(f"{label}: start, {load()}", flush=True)
            started = time.perf_counter()
            payment_file = payment_file_import(payment_file_id=payment_file.pk, path=path)
            elapsed = time.perf_counter() - started
            if run == 0:
                first_elapsed, first_file = elapsed, payment_file
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            if payment_file.status != PaymentFile.Status.IMPORTED:
                print(payment_file.error)
                sys.exit(1)
            print(
                f"{label}: {elapsed:.1f} s, {args.lines / elapsed:,.0f} lines/s; new "
                f"{payment_file.lines_imported}, duplicates {payment_file.lines_duplicate}, "
                f"unmatched {payment_file.lines_unmatched}; peak RSS {rss_after / 1024:.0f} MB "
                f"(+{(rss_after - rss_before) / 1024:.0f} MB during the import); {load()}",
                flush=True,
            )
        if not args.no_reference:
            rows, entries, plain_s = reference(path, bank, first_file)
            plain = "COPY" if connection.vendor == "postgresql" else "executemany INSERT"
            print(
                f"reference, the same {rows} payment rows and their {entries} ledger entries by "
                f"{plain} into payments_payment and billing_ledgerentry (rolled back): "
                f"{plain_s:.1f} s, {rows / plain_s:,.0f} lines/s; first import / reference: "
                f"{first_elapsed / plain_s:.2f}×; {load()}"
            )


if __name__ == "__main__":
    main()
