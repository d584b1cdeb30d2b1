"""Benchmark of the registry import (onboarding): a first load, the same file again, the bare write.

Generates a registry workbook of N accounts (3 meters with last readings each, opening debts for
half of them to two providers over three months: ≈ 3 balance lines per account) and loads it
into a new, empty organization on the configured database (DATABASE_URL, or the SQLite file in
DATA_DIR), through `registry_import` as an operator's upload is loaded:

    .venv/bin/python bench/registry.py --accounts 2000
    DATABASE_URL=postgres://... .venv/bin/python bench/registry.py --accounts 100000

The workbook is generated in a child process (≈ 1 GB at 100 000 accounts, so a `time -v` of the
whole command reports the child's memory); the peak RSS printed is the loading process's own.
`--workbook FILE` loads a workbook written before instead.

Printed: the workbook's size, the first load (everything created), the same file again (nothing
to change), each with the process's peak resident memory, and as a reference the database's
bare write of the same rows — the accounts, meters, readings and ledger rows written once more
the plainest way (COPY on PostgreSQL, executemany on SQLite) in a transaction that is rolled
back. The goal at 100 000 accounts on PostgreSQL: first load < 2 min, again < 1 min, peak
memory < 500 MB.
"""

import argparse
import datetime
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kvartplata.settings")
os.environ.setdefault("SECRET_KEY", "bench-" + "not-a-secret-" * 4)

SWITCH = datetime.date(2026, 3, 1)


def generate(path: Path, accounts: int) -> None:
    from kvartplata.backoffice.exchange.files import write_xlsx
    from kvartplata.backoffice.exchange.generate import registry_workbook

    tables = registry_workbook(
        accounts=accounts, switch_month=SWITCH, seed=accounts, debtors_every=2
    )
    write_xlsx(tables, path)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--workbook", help="load this workbook instead of generating one")
    parser.add_argument("--no-reference", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, transaction

    from bench.machine_info import machine
    from kvartplata.backoffice.exchange.services import registry_import
    from kvartplata.lib.db import bulk_insert
    from kvartplata.registry.models import Organization

    print(f"{machine()}; {connection.vendor}; {args.accounts} accounts", flush=True)
    started = time.perf_counter()
    scratch = tempfile.TemporaryDirectory(prefix="bench-registry-")
    if args.workbook:
        path = Path(args.workbook)
    else:
        path = Path(scratch.name) / "registry.xlsx"
        # Generated in a child process, so that the peak memory printed is the load's own.
        child = multiprocessing.get_context("fork").Process(
            target=generate, args=(path, args.accounts)
        )
        child.start()
        child.join()
    print(
        f"workbook: {path.stat().st_size / 1e6:.1f} MB, ready in "
        f"{time.perf_counter() - started:.1f} s; peak RSS before loading {rss_mb():.0f} MB",
        flush=True,
    )
    n = Organization.objects.count() + 1
    org = Organization.objects.create(
        name=f"Бенчмарк {n}",
        short_name=f"Бенчмарк {n}",
        address="-",
        inn="7707083893",
        bank_name="ПАО Сбербанк",
        bic="044525225",
        correspondent_account="30101810400000000225",
        settlement_account="40702810138250123017",
    )
    rows: dict = {}
    timings = {}
    for label in ("first load", "same file again"):
        started, cpu = time.perf_counter(), time.process_time()
        report = registry_import(organization=org, source=path, switch_month=SWITCH)
        timings[label] = time.perf_counter() - started
        cpu = time.process_time() - cpu
        assert report.ok, report.as_text()[:2000]
        counts = {k: v["created"] or v["unchanged"] for k, v in report.counts.items()}
        changed = sum(v["created"] + v["changed"] for v in report.counts.values())
        rows = rows or counts
        print(
            f"{label}: {timings[label]:.1f} s (this process's CPU {cpu:.1f} s), peak RSS "
            f"{rss_mb():.0f} MB, "
            f"created or changed {changed}; {counts}",
            flush=True,
        )
    scratch.cleanup()
    if args.no_reference:
        return
    # The bare write: the same numbers of rows into the same tables, rolled back.
    from kvartplata.meters.models import Meter
    from kvartplata.registry.models import Period

    premises_id = org.accounts.values_list("premises_id", flat=True).first()
    account_id = org.accounts.values_list("id", flat=True).first()
    meter_ids = list(Meter.objects.filter(account__organization=org).values_list("id", flat=True))
    now = datetime.datetime.now(datetime.UTC)
    with transaction.atomic():
        # An open month to write into (the opening one is closed); rolled back with the rest.
        opening = Period.objects.create(organization=org, month=SWITCH, due_date=SWITCH)
        started = time.perf_counter()
        bulk_insert(
            "registry_personalaccount",
            ["organization_id", "number", "premises_id", "holder_last_name", "holder_first_name",
             "holder_middle_name", "holder_phone", "residents", "share", "opened_on", "link_code"],
            ((org.id, f"9{i:09d}", premises_id, "Иванов", "Иван", "", "", 2, 1, SWITCH, "ABCDEFGH")
             for i in range(rows["accounts"])),
        )  # fmt: skip
        bulk_insert(
            "meters_meter",
            ["scope", "account_id", "resource", "serial_number", "model", "place", "zones",
             "digits", "precision", "installed_on", "verified_on", "next_verification_on",
             "seal_number", "initial_value1", "archive_reason"],
            (("flat", account_id, "cold_water", f"B{i}", "", "", 1, 5, 3, SWITCH, SWITCH, SWITCH,
              "", 0, "") for i in range(rows["meters"])),
        )  # fmt: skip
        bulk_insert(
            "meters_reading",
            ["meter_id", "month", "value1", "kind", "source", "is_accepted", "confirmed_high",
             "submitted_at"],
            ((meter_ids[i % len(meter_ids)], datetime.date(2000 + i // 12 % 20, i % 12 + 1, 1),
              1, "regular", "import", False, False, now) for i in range(rows["meters"])),
        )  # fmt: skip
        bulk_insert(
            "billing_ledgerentry",
            ["account_id", "period_id", "concerns_month", "kind", "amount", "entry_date",
             "note", "created_at"],
            ((account_id, opening.id, SWITCH, "correction", 1, SWITCH, "", now)
             for _ in range(rows["opening_balances"])),
        )  # fmt: skip
        bare = time.perf_counter() - started
        transaction.set_rollback(True)
    first, again = timings["first load"], timings["same file again"]
    print(
        f"bare write of the same rows (rolled back): {bare:.1f} s; first load {first:.1f} s "
        f"({first / bare:.1f}× the bare write), same file again {again:.1f} s "
        f"({again / bare:.1f}×); peak RSS {rss_mb():.0f} MB",
        flush=True,
    )


if __name__ == "__main__":
    main()
