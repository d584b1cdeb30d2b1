"""Benchmark of the billing run: charge lines per second and peak memory, beside a plain
INSERT … SELECT of the same rows (the database's own limit) in the same run.

Usage (a world must exist in the configured database, e.g. `manage.py demo --accounts 100000`):

    DATABASE_URL=… .venv/bin/python bench/billing.py [--profile]
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kvartplata.settings")
# DEBUG stays off as in production; a key of its own for the benchmark process.
os.environ.setdefault("SECRET_KEY", "bench-" + "not-a-secret-" * 4)

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from kvartplata.billing.models import Charge  # noqa: E402
from kvartplata.billing.services import billing_run_execute, billing_run_start  # noqa: E402
from kvartplata.registry.models import Organization, Period, PersonalAccount  # noqa: E402


def slow_sql_printer(threshold: float):
    def wrapper(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - began
            if took >= threshold:
                print(f"{took:7.3f} s  {' '.join(sql.split())[:150]}")

    return wrapper


def unbill(period) -> None:
    from kvartplata.billing import ledger
    from kvartplata.billing.models import (
        AccountBalance,
        LedgerEntry,
        MeterState,
        Recalculation,
    )

    with transaction.atomic():
        ledger.unpost_auto_recalculations(period)
        Recalculation.objects.filter(period=period, source="late_readings").delete()
        LedgerEntry.objects.filter(period=period, kind__in=["charge", "penalty"]).delete()
        AccountBalance.objects.filter(period=period).delete()
        MeterState.objects.filter(period=period).delete()
        Charge.objects.filter(period=period).delete()
        Period.objects.filter(id=period.id).update(state="open", billed_at=None)
    period.refresh_from_db()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--slow-sql", type=float, default=0, help="print statements slower than this (seconds)"
    )
    args = parser.parse_args()
    org = Organization.objects.first()
    if org is None:
        sys.exit("No world: run `manage.py demo --accounts N` first.")
    period = Period.objects.filter(organization=org).exclude(state="closed").get()
    accounts = PersonalAccount.objects.filter(organization=org).count()
    print(f"database: {connection.vendor}; accounts: {accounts}; period: {period.month:%Y-%m}")

    if period.state != "open":
        # An earlier run of the bench billed the month: undo it untimed, so that every run
        # measures a first run (a repeated run also deletes what the earlier one wrote).
        unbill(period)
        print("(the month was billed by an earlier run: its results were removed first)")
    if args.slow_sql:
        connection.execute_wrappers.append(slow_sql_printer(args.slow_sql))
    started = time.perf_counter()
    run = billing_run_start(organization=org)
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
    run = billing_run_execute(run_id=run.id)
    elapsed = time.perf_counter() - started
    if args.profile:
        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "tottime")).print_stats(25)
    # Peak memory as the OS saw it: tracemalloc would slow the run itself two- to threefold.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = Charge.objects.filter(period=period).count()
    print(f"billing run: {lines} charge lines in {elapsed:.1f} s = {lines / elapsed:,.0f} lines/s")
    print(f"peak memory (max RSS of the process) {rss:.0f} MiB")

    # The physical limit: the same rows copied by the database itself, with no Python.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_charge AS SELECT * FROM billing_charge WHERE 1 = 0")
        started = time.perf_counter()
        cursor.execute(
            "INSERT INTO bench_charge SELECT * FROM billing_charge WHERE period_id = %s",
            [period.id],
        )
        plain = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_charge")
    print(f"plain INSERT … SELECT: {lines} rows in {plain:.2f} s = {lines / plain:,.0f} rows/s")
    # The same rows written into billing_charge itself, with its unique key, guard trigger and
    # FOREIGN KEY constraints, in a transaction that is rolled back: the floor for any engine
    # writing these lines.
    cols = (
        "account_id, period_id, service_id, kind, zone, method, volume, tariff, norm, "
        "coefficient, amount, details, run_id"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE bench_copy AS SELECT {cols} FROM billing_charge "
            "WHERE period_id = %s",
            [period.id],
        )
        cursor.execute("DELETE FROM billing_charge WHERE period_id = %s", [period.id])
        if connection.vendor == "postgresql":
            # The FOREIGN KEY checks are deferred to the commit, which the rollback skips:
            # checked at once they are part of the floor, as they are of the run.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        started = time.perf_counter()
        cursor.execute(f"INSERT INTO billing_charge ({cols}) SELECT {cols} FROM bench_copy")
        into_table = time.perf_counter() - started
        transaction.set_rollback(True)
    print(
        f"INSERT … SELECT into billing_charge (its index, trigger and FOREIGN KEYs): "
        f"{into_table:.2f} s = "
        f"{lines / into_table:,.0f} rows/s; billing run / that: {elapsed / into_table:.1f}×"
    )
    print(f"billing run / plain insert: {elapsed / plain:.1f}×")


if __name__ == "__main__":
    main()
