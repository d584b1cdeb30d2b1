"""Benchmark of the office's reports, the month review and the desk search on a demo world.

On the configured database (DATABASE_URL, or the SQLite file in DATA_DIR), with a world built
beforehand by ``manage.py demo --accounts N`` (or here with ``--build N`` into an empty one):

    DATABASE_URL=postgres://…/kvartplata_bench .venv/bin/python bench/reports.py
    DATA_DIR=/tmp/kv_reports .venv/bin/python bench/reports.py --build 50 --months 3

Printed per report of the last billed month: the query time (the report built, rows in
memory), the .xlsx written in XlsxWriter's constant-memory mode and the CSV streamed, with
the number of rows; the first screen of the ведомость by account (one page of rows and the
totals of all, what the HTML page reads); then the month review and the desk searches (number,
surname, address, phone). Each is the best of ``--repeat`` runs (2 by default). The load
average is printed before and after: figures taken on a busy machine are not the official ones.
It only reads the database.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kvartplata.settings")
os.environ.setdefault("SECRET_KEY", "bench-" + "not-a-secret-" * 4)


def best(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=int, default=0, help="build a demo world of N accounts")
    parser.add_argument("--months", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import RequestFactory

    from bench.machine_info import machine
    from kvartplata.backoffice import desk, month, report_views, reports
    from kvartplata.backoffice.downloads import csv_response, xlsx_response
    from kvartplata.registry.models import Organization, Period, PersonalAccount

    if args.build:
        call_command("migrate", verbosity=0)
        if not Organization.objects.exists():
            from kvartplata.demo.world import build

            build(accounts=args.build, months=args.months)
    organization = Organization.objects.order_by("id").first()
    accounts = PersonalAccount.objects.filter(organization=organization).count()
    period = (
        Period.objects.filter(organization=organization)
        .exclude(state="open")
        .order_by("-month")
        .first()
    )
    print(f"{machine()}; {connection.vendor}; {accounts} accounts; month {period.month:%Y-%m}")
    print(f"load average before: {_load()}")
    first = period.month.replace(year=period.month.year - 1)
    cases = [
        (
            "ОСВ по лицевым счетам",
            lambda: reports.turnover(organization.id, period.month, period.month),
        ),
        (
            "ОСВ по домам",
            lambda: reports.turnover(organization.id, period.month, period.month, "building"),
        ),
        (
            "ОСВ по поставщикам",
            lambda: reports.turnover(organization.id, period.month, period.month, "provider"),
        ),
        (
            "ОСВ по услугам",
            lambda: reports.turnover(organization.id, period.month, period.month, "service"),
        ),
        ("Должники", lambda: reports.debtors(organization.id, period.month)),
        ("Собираемость за год", lambda: reports.collections(organization.id, first, period.month)),
        (
            "Оплаты по банкам и дням",
            lambda: reports.collections_by_bank(organization.id, period.month, period.month),
        ),
        (
            "Передача показаний",
            lambda: reports.readings(organization.id, period.month, period.month),
        ),
    ]
    request = RequestFactory().get("/")
    request.user = None
    for name, build_report in cases:
        seconds, report = best(build_report, args.repeat)
        xlsx_seconds, _ = best(
            lambda report=report: b"".join(xlsx_response(report, "bench").streaming_content),
            args.repeat,
        )
        csv_seconds, _ = best(
            lambda report=report: b"".join(
                part.encode() if isinstance(part, str) else part
                for part in csv_response(report, "bench").streaming_content
            ),
            args.repeat,
        )
        print(
            f"{name}: {len(report.rows)} rows; query {seconds:.3f} s, "
            f"xlsx {xlsx_seconds:.3f} s, csv {csv_seconds:.3f} s"
        )
    seconds, page = best(
        lambda: reports.turnover(
            organization.id, period.month, period.month, limit=report_views.SCREEN_ROWS
        ),
        args.repeat,
    )
    print(f"ОСВ по лицевым счетам, экран: {len(page.rows)} of {page.count} rows; {seconds:.3f} s")
    seconds, _ = best(lambda: month.review(period), args.repeat)
    print(f"Проверка месяца: {seconds:.3f} s")
    sample = PersonalAccount.objects.filter(organization=organization).order_by("id").first()
    phone = (
        PersonalAccount.objects.filter(organization=organization)
        .exclude(holder_phone="")
        .values_list("holder_phone", flat=True)
        .first()
    )
    for label, query in (
        ("номер", sample.number),
        ("фамилия", sample.holder_last_name),
        ("адрес", f"{sample.premises.building.street} {sample.premises.building.house}"),
        ("телефон", phone or "+7 916 000-00-00"),
    ):
        seconds, found = best(lambda query=query: desk.search(organization, query), args.repeat)
        print(f"Поиск ЛС по {label}: {len(found)} found, {seconds * 1000:.1f} ms")
    print(f"load average after: {_load()}")


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


if __name__ == "__main__":
    main()
