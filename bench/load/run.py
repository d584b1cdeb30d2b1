"""Load test of the production stack on loopback: locust residents and staff, then reconciliation.

Builds (or reuses) the PostgreSQL database kv_load with the demo world and K extra resident
logins, starts the stack of scripts/e2e_stack.py (gunicorn, a Huey worker on Redis db 6, an SMTP
catcher), runs locust headless against it (bench/load/locustfile.py), waits for the queued work
(payment files, billing run) and then checks that nothing was lost or doubled:

* every reading the load test got a success answer for is in the database exactly once, and the
  last one per meter is the accepted one;
* every line of the imported payment files is in the database exactly once, with its amount, and
  a matched one is in the ledger with exactly its amount;
* the ledger invariant holds for every account and month (balance chain and journal sums).

Run from the project root (needs `pip install -r requirements/load.txt`):

    .venv/bin/python bench/load/run.py --users 20 --rate 4 --duration 30s          # a short run
    .venv/bin/python bench/load/run.py --users 200 --rate 1.5 --duration 440s --fresh

(the second: a 133 s ramp, then 200 users held for 5 minutes; docs/performance.md, Load test).

Figures and the reconciliation are printed and kept in the work folder (summary.json/.md).
Loopback only; every wait is bounded. Not part of CI.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import e2e_stack as stack  # noqa: E402 - the stack's process helpers, shared with the e2e run

DB_NAME = "kv_load"
REDIS_URL = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/6")
LOGIN_PREFIX = "load"
LOGIN_PASSWORD = os.environ.get("LOAD_PASSWORD", "load-kvartplata-2026")
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
STEP = stack.step


def seconds(text: str) -> int:
    """Locust's duration syntax, reduced to what this script takes: 30s, 5m, 1h, 90."""
    match = re.fullmatch(r"(\d+)([smh]?)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"bad duration {text!r}: use e.g. 30s or 5m")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def stack_env(base: str, smtp_port: int, workdir: Path) -> dict[str, str]:
    """The e2e run's production settings (DEBUG off, plain HTTP on loopback) on kv_load."""
    return stack.stack_env(
        base=base, smtp_port=smtp_port, workdir=workdir, db_name=DB_NAME, redis_url=REDIS_URL
    )


def psql_value(sql: str) -> str:
    out = stack.run(
        [
            shutil.which("psql") or "psql",
            "-h",
            stack.PG_HOST,
            "-p",
            stack.PG_PORT,
            "-U",
            stack.PG_USER,
            "-d",
            "postgres",
            "-tAc",
            sql,
        ],
        dict(os.environ),
        timeout=60,
    )
    return out.strip()


# --- inside Django (run as a subprocess with the stack's environment) --------------------------


def django_setup() -> None:
    import django

    django.setup()


def step_setup(workdir: Path, logins: int, lines: int, seed: int) -> None:
    """Readings window open all month, K resident logins, two payment files; facts to JSON."""
    django_setup()
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from kvartplata.lib.periods import period_label
    from kvartplata.payments.models import Bank
    from kvartplata.registry.models import Building, Organization, Period, PersonalAccount
    from kvartplata.users.models import AccountLink, User
    from kvartplata.users.services import user_create

    rng = random.Random(seed)
    organization = Organization.objects.get()
    with transaction.atomic():
        # Whatever day this runs on, the readings window is open (as in the e2e run).
        Organization.objects.update(readings_day_from=1, readings_day_to=31)
        Building.objects.update(readings_day_from=None, readings_day_to=None)
        taken = set(AccountLink.objects.values_list("account_id", flat=True))
        free = list(
            PersonalAccount.objects.filter(organization=organization, closed_on__isnull=True)
            .exclude(pk__in=taken)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        existing = set(
            User.objects.filter(username__startswith=LOGIN_PREFIX).values_list(
                "username", flat=True
            )
        )
        wanted = [f"{LOGIN_PREFIX}{i:04d}" for i in range(logins)]
        missing = [u for u in wanted if u not in existing]
        if len(missing) > len(free):
            raise SystemExit(f"{len(missing)} logins wanted, only {len(free)} unlinked accounts")
        # One login per account: a reading acknowledged to a login is that login's alone.
        for username, account_id in zip(missing, rng.sample(free, len(missing)), strict=True):
            user = user_create(
                username=username,
                email=f"{username}@load.example",
                password=None,
                email_verified=True,
                consent_version="1.0",
                consent_at=timezone.now(),
            )
            AccountLink.objects.create(user=user, account_id=account_id)
        # One hash for all (PBKDF2 costs ~0.4 s each): set once, not K times.
        User.objects.filter(username__in=wanted).update(password=make_password(LOGIN_PASSWORD))
    links = dict(
        AccountLink.objects.filter(user__username__in=wanted).values_list(
            "user__username", "account_id"
        )
    )
    period = Period.objects.exclude(state="closed").get(organization=organization)
    bank = Bank.objects.get(organization=organization, code="sber")
    numbers = list(
        PersonalAccount.objects.filter(organization=organization).values_list("number", flat=True)
    )
    tag = f"L{int(time.time())}"
    files = write_payment_files(workdir, rng, numbers, lines, tag, period.month)
    facts = {
        "period_id": period.pk,
        "month": f"{period.month:%Y-%m-%d}",
        "month_label": period_label(period.month),
        "period_state": period.state,
        "bank_id": bank.pk,
        "logins": [{"username": u, "account_id": links[u]} for u in wanted],
        "password": LOGIN_PASSWORD,
        "files": files,
        "accounts": len(numbers),
    }
    (workdir / "facts.json").write_text(json.dumps(facts, indent=1), encoding="utf-8")
    print(f"SETUP {len(wanted)} logins ({len(missing)} new), period {period.month:%m.%Y}")


def write_payment_files(workdir, rng, numbers, lines, tag, month) -> list[str]:
    """Two registries in the demo bank's layout; a quarter of the second repeats the first."""
    today = datetime.now().date()
    last_day = today.day if (today.year, today.month) == (month.year, month.month) else 28
    first = [payment_line(rng, numbers, f"{tag}a{i:07d}", month, last_day) for i in range(lines)]
    repeat = lines // 4
    second = first[:repeat] + [
        payment_line(rng, numbers, f"{tag}b{i:07d}", month, last_day) for i in range(lines - repeat)
    ]
    paths = []
    for name, rows in (("registry-1.txt", first), ("registry-2.txt", second)):
        total = sum(kopecks for _line, kopecks in rows)
        path = workdir / name
        with open(path, "w", encoding="cp1251", newline="\n") as out:
            out.write("".join(line for line, _k in rows))
            out.write(f"={len(rows)};{total // 100}.{total % 100:02d};0.00\n")
        paths.append(str(path))
    return paths


def payment_line(rng, numbers, operation, month, last_day) -> tuple[str, int]:
    # 1 % unknown accounts: kept as unmatched payments, not an error.
    number = rng.choice(numbers) if rng.random() >= 0.01 else f"99{rng.randrange(10**6):06d}"
    kopecks = rng.randrange(10_000, 900_000)
    day, second = rng.randint(1, last_day), rng.randrange(86_400)
    line = (
        f"{day:02d}.{month:%m.%Y} {second // 3600:02d}:{second // 60 % 60:02d}:"
        f"{second % 60:02d};{operation};{number};Нагрузочный Тест;г. Рязань, ул. Ленина, д. 1;"
        f";{kopecks // 100}.{kopecks % 100:02d};0.00\n"
    )
    return line, kopecks


def step_reconcile(workdir: Path, wait: int) -> None:
    """Wait for the queue to finish, then check readings, payments and the ledger."""
    django_setup()
    from kvartplata.billing.models import BillingRun
    from kvartplata.payments.models import PaymentFile

    facts = json.loads((workdir / "facts.json").read_text(encoding="utf-8"))
    until = time.monotonic() + wait
    while True:
        busy_files = PaymentFile.objects.filter(status__in=["queued", "processing"]).count()
        busy_runs = BillingRun.objects.filter(status__in=["queued", "running"]).count()
        if not busy_files and not busy_runs:
            break
        if time.monotonic() > until:
            print(f"queue still busy after {wait} s: {busy_files} files, {busy_runs} runs")
            break
        time.sleep(2)
    result = {
        "readings": reconcile_readings(workdir, facts),
        "payments": reconcile_payments(workdir, facts),
        "ledger": reconcile_ledger(),
        "billing": billing_figures(facts, run_started(workdir)),
    }
    result["ok"] = all(part["ok"] for part in result.values() if isinstance(part, dict))
    (workdir / "reconcile.json").write_text(json.dumps(result, indent=1, default=str), "utf-8")


def acks(workdir: Path, name: str) -> list[dict]:
    rows = []
    for path in sorted((workdir / "acks").glob(f"{name}*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return rows


def reconcile_readings(workdir: Path, facts: dict) -> dict:
    from kvartplata.meters.models import Reading

    acknowledged = acks(workdir, "readings")
    logins = [x["username"] for x in facts["logins"]]
    stored = Counter()
    accepted = {}
    # Only this run's: a reused database keeps the readings of earlier runs.
    rows = Reading.objects.filter(
        submitted_by__username__in=logins,
        source=Reading.Source.CABINET,
        submitted_at__gte=run_started(workdir),
    ).values_list("meter_id", "month", "value1", "value2", "value3", "is_accepted", "submitted_at")
    for meter_id, month, v1, v2, v3, is_accepted, _at in rows:
        key = (meter_id, f"{month:%Y-%m-%d}", tuple(v for v in (v1, v2, v3) if v is not None))
        stored[key] += 1
        if is_accepted:
            accepted[(meter_id, key[1])] = key[2]
    missing, doubled, wrong_accepted = [], [], []
    last: dict[tuple, tuple] = {}
    seen = Counter()
    for ack in sorted(acknowledged, key=lambda a: a["at"]):
        key = (ack["meter_id"], ack["month"], tuple(Decimal(v) for v in ack["values"]))
        seen[key] += 1
        last[(key[0], key[1])] = key[2]
    for key, times in seen.items():
        if stored[key] < times:
            missing.append(key)
        elif stored[key] > times:
            doubled.append(key)
    for meter_month, values in last.items():
        if accepted.get(meter_month) != values:
            wrong_accepted.append((meter_month, values, accepted.get(meter_month)))
    unacknowledged = sum(stored.values()) - sum(min(stored[k], n) for k, n in seen.items())
    return {
        "ok": not missing and not doubled and not wrong_accepted,
        "acknowledged": len(acknowledged),
        "meters": len(last),
        "missing": len(missing),
        "doubled": len(doubled),
        "last_not_accepted": len(wrong_accepted),
        "stored_without_ack": unacknowledged,
        "examples": [str(x) for x in (missing + doubled + wrong_accepted)[:5]],
    }


def run_started(workdir: Path) -> datetime:
    stamp = float((workdir / "started.txt").read_text(encoding="utf-8"))
    return datetime.fromtimestamp(stamp, tz=UTC)


def reconcile_payments(workdir: Path, facts: dict) -> dict:
    from django.db.models import Count, Sum

    from kvartplata.billing.models import LedgerEntry
    from kvartplata.payments.models import Payment, PaymentFile

    uploads = acks(workdir, "payments")
    file_ids = [u["file_id"] for u in uploads]
    files = {f.pk: f for f in PaymentFile.objects.filter(pk__in=file_ids)}
    expected: dict[str, tuple[str, Decimal]] = {}
    refused = []
    for upload in uploads:
        payment_file = files.get(upload["file_id"])
        if payment_file is None or payment_file.status != PaymentFile.Status.IMPORTED:
            refused.append((upload["file_id"], getattr(payment_file, "status", "missing")))
            continue
        text = Path(upload["path"]).read_text(encoding="cp1251")
        for line in text.splitlines():
            if line.startswith("="):
                continue
            f = line.split(";")
            expected[f[1]] = (f[2], Decimal(f[6]))
    keys = list(expected)
    found = defaultdict(list)
    for start in range(0, len(keys), 5000):
        chunk = keys[start : start + 5000]
        for row in Payment.objects.filter(
            bank_id=facts["bank_id"], natural_key__in=chunk
        ).values_list("natural_key", "id", "account_number", "amount", "status", "account_id"):
            found[row[0]].append(row)
    missing = [k for k in keys if not found[k]]
    doubled = [k for k in keys if len(found[k]) > 1]
    wrong = [
        k
        for k in keys
        if len(found[k]) == 1
        and (found[k][0][2], found[k][0][3]) != (expected[k][0], expected[k][1])
    ]
    matched = {rows[0][1]: rows[0][3] for rows in found.values() if rows and rows[0][5]}
    posted = {}
    ids = list(matched)
    for start in range(0, len(ids), 5000):
        posted.update(
            LedgerEntry.objects.filter(kind="payment", source_id__in=ids[start : start + 5000])
            .values("source_id")
            .annotate(total=Sum("amount"), n=Count("id"))
            .values_list("source_id", "total")
        )
    ledger_wrong = [pid for pid, amount in matched.items() if posted.get(pid) != -amount]
    return {
        "ok": not (missing or doubled or wrong or ledger_wrong or refused),
        "files": {
            str(fid): {
                "status": f.status,
                "lines": f.lines_total,
                "new": f.lines_imported,
                "repeats": f.lines_duplicate,
                "unmatched": f.lines_unmatched,
                "seconds": round((f.finished_at - f.uploaded_at).total_seconds(), 1)
                if f.finished_at
                else None,
            }
            for fid, f in files.items()
        },
        "refused_or_unfinished": refused,
        "distinct_lines": len(keys),
        "missing": len(missing),
        "doubled": len(doubled),
        "amount_or_account_differs": len(wrong),
        "matched": len(matched),
        "unmatched": len(keys) - len(matched) - len(missing),
        "ledger_differs": len(ledger_wrong),
        "examples": (missing + doubled + wrong)[:5] + ledger_wrong[:5],
    }


def reconcile_ledger() -> dict:
    """Balance chain, arithmetic and journal sums for every account and month."""
    from django.db.models import Sum

    from kvartplata.billing.models import AccountBalance, LedgerEntry
    from kvartplata.registry.models import Period, PersonalAccount

    zero = Decimal("0.00")
    periods = {p.pk: p for p in Period.objects.order_by("month")}
    journal: dict[tuple[int, int], dict[str, Decimal]] = defaultdict(dict)
    for account_id, period_id, kind, total in (
        LedgerEntry.objects.values_list("account_id", "period_id", "kind")
        .annotate(total=Sum("amount"))
        .order_by()
    ):
        journal[(account_id, period_id)][kind] = total
    balances = defaultdict(dict)
    for b in AccountBalance.objects.values_list(
        "account_id",
        "period_id",
        "opening",
        "charges",
        "recalculations",
        "penalties",
        "payments",
        "closing",
    ):
        balances[b[0]][b[1]] = b[2:]
    problems = Counter()
    examples = []
    open_total = zero
    accounts = list(PersonalAccount.objects.values_list("pk", flat=True))

    def problem(kind, account_id, period):
        problems[kind] += 1
        if len(examples) < 8:
            examples.append(f"{kind}: account {account_id}, {period.month:%m.%Y}")

    for account_id in accounts:
        previous_closing = zero
        for period in periods.values():
            j = journal.get((account_id, period.pk), {})
            charges = j.get("charge", zero) + j.get("correction", zero)
            movement = (
                charges,
                j.get("recalculation", zero),
                j.get("penalty", zero),
                -j.get("payment", zero),
            )
            row = balances[account_id].get(period.pk)
            if row is None:
                if period.state != "open":
                    problem("no balance for a billed or closed month", account_id, period)
                # The open month has no materialized balance yet: its closing is the journal's.
                closing = previous_closing + movement[0] + movement[1] + movement[2] - movement[3]
                open_total += closing - previous_closing
                previous_closing = closing
                continue
            opening, ch, rc, pen, pay, closing = row
            if opening != previous_closing:
                problem("opening ≠ previous closing", account_id, period)
            if closing != opening + ch + rc + pen - pay:
                problem(
                    "closing ≠ opening + charges + recalculations + penalties − payments",
                    account_id,
                    period,
                )
            if (ch, rc, pen, pay) != movement:
                problem("balance ≠ journal sums", account_id, period)
            previous_closing = closing
    return {
        "ok": not problems,
        "accounts": len(accounts),
        "months": len(periods),
        "balances": sum(len(v) for v in balances.values()),
        "journal_groups": len(journal),
        "problems": dict(problems),
        "examples": examples,
        "open_month_movement": str(open_total),
    }


def billing_figures(facts: dict, since: datetime) -> dict:
    from kvartplata.billing.models import BillingRun

    runs = []
    for run in BillingRun.objects.filter(
        period_id=facts["period_id"], created_at__gte=since
    ).order_by("created_at"):
        took = (
            (run.finished_at - run.started_at).total_seconds()
            if run.finished_at and run.started_at
            else None
        )
        runs.append(
            {
                "status": run.status,
                "accounts": run.accounts_total,
                "lines": run.lines,
                "seconds": round(took, 1) if took else None,
                "lines_per_s": round(run.lines / took) if took else None,
                "error": run.error[:300],
            }
        )
    return {"ok": bool(runs) and all(r["status"] == "done" for r in runs), "runs": runs}


# --- orchestration -----------------------------------------------------------------------------


class LoadSampler(threading.Thread):
    """The 1-minute load average every few seconds while locust runs (the box is shared)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.wait(5):
            self.samples.append(os.getloadavg()[0])


def machine() -> dict:
    model = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"nproc": os.cpu_count(), "cpu": model}


def read_stats(prefix: Path) -> dict:
    pages = []
    with open(f"{prefix}_stats.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            pages.append(
                {
                    "name": row["Name"],
                    "method": row["Type"],
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "rps": float(row["Requests/s"]),
                    "p50": row["50%"],
                    "p99": row["99%"],
                    "max": round(float(row["Max Response Time"])),
                }
            )
    held, steady = 0, []
    with open(f"{prefix}_stats_history.csv", encoding="utf-8") as f:
        history = [r for r in csv.DictReader(f) if r["Name"] == "Aggregated"]
    if history:
        held = max(int(r["User Count"]) for r in history)
        full = [r for r in history if int(r["User Count"]) == held]
        steady = [float(r["Requests/s"]) for r in full]
    failures = []
    with open(f"{prefix}_failures.csv", encoding="utf-8") as f:
        failures = [dict(r) for r in csv.DictReader(f)]
    return {
        "pages": pages,
        "users_held": held,
        "seconds_at_full_count": len(steady),
        "rps_at_full_count": round(sum(steady) / len(steady), 1) if steady else None,
        "failures": failures[:20],
    }


def markdown(summary: dict) -> str:
    s = summary
    lines = [
        f"Run {s['started']}: {s['users']} users (ramp {s['rate']}/s), {s['duration']} s, "
        f"think time {s['think']} s, {s['accounts']} accounts, {s['workers']} gunicorn workers; "
        f"machine {s['machine']['cpu']}, nproc {s['machine']['nproc']}; load average during "
        f"the run {s['load']['min']}–{s['load']['max']} (mean {s['load']['mean']}).",
        "",
        f"Users held: {s['stats']['users_held']} for {s['stats']['seconds_at_full_count']} s; "
        f"requests/s at full count: {s['stats']['rps_at_full_count']}.",
        "",
        "| page | requests | errors | req/s | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in s["stats"]["pages"]:
        name = p["name"] if p["name"] != "Aggregated" else "**all**"
        lines.append(
            f"| {name} | {p['requests']} | {p['failures']} | {p['rps']:.1f} | {p['p50']} "
            f"| {p['p99']} | {p['max']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rate", type=float, default=2.0, help="users started per second")
    parser.add_argument("--duration", type=seconds, default=seconds("30s"))
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--months", type=int, default=3)
    parser.add_argument("--logins", type=int, default=0, help="default: users + 10")
    parser.add_argument("--lines", type=int, default=20000, help="lines per payment file")
    parser.add_argument("--workers", type=int, default=8, help="gunicorn workers")
    parser.add_argument("--think", default="5-15", help="think time range, seconds")
    parser.add_argument("--fresh", action="store_true", help="rebuild kv_load even if present")
    parser.add_argument("--drop", action="store_true", help="drop kv_load at the end")
    parser.add_argument("--step", choices=["setup", "reconcile"], help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    logins = args.logins or args.users + 10
    if args.step == "setup":
        step_setup(args.workdir, logins, args.lines, args.seed)
        return 0
    if args.step == "reconcile":
        step_reconcile(args.workdir, wait=300)
        return 0

    signal.signal(signal.SIGTERM, stack.stop_on_signal)
    # The e2e helpers bound every wait by their module's deadline: give this run its own.
    stack.DEADLINE = time.monotonic() + 3600 + args.duration
    from aiosmtpd.controller import Controller

    workdir = Path(tempfile.mkdtemp(prefix="kv_load_"))
    (workdir / "acks").mkdir()
    smtp_port, http_port = stack.free_port(), stack.free_port()
    base = f"http://127.0.0.1:{http_port}"
    env = stack_env(base, smtp_port, workdir)
    services: list[stack.Service] = []
    controller = None
    sampler = LoadSampler()
    ok = False
    try:
        exists = psql_value(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'") == "1"
        if args.fresh or not exists:
            STEP(f"PostgreSQL: fresh database {DB_NAME}")
            stack.psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
            stack.psql(f"CREATE DATABASE {DB_NAME}")
            stack.manage(env, "migrate", "--noinput", timeout=300)
            STEP(f"demo world: {args.accounts} accounts, {args.months} months")
            stack.manage(
                env,
                "demo",
                "--accounts",
                str(args.accounts),
                "--months",
                str(args.months),
                timeout=1800,
            )
            stack.manage(env, "setup_staff_group", "--user", "operator", timeout=60)
        else:
            STEP(f"PostgreSQL: reusing database {DB_NAME} (--fresh rebuilds it)")
            stack.manage(env, "migrate", "--noinput", timeout=300)
        STEP(f"Redis: empty queue db {REDIS_URL}")
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        client.flushdb()
        client.close()
        stack.manage(env, "collectstatic", "--noinput", timeout=120)
        STEP(f"setup: {logins} resident logins, payment files of {args.lines} lines")
        out = stack.run(
            [
                stack.PYTHON,
                str(Path(__file__)),
                "--step",
                "setup",
                "--workdir",
                str(workdir),
                "--logins",
                str(logins),
                "--lines",
                str(args.lines),
                "--seed",
                str(args.seed),
            ],
            env,
            timeout=600,
        )
        STEP(out.strip().splitlines()[-1])
        facts = json.loads((workdir / "facts.json").read_text(encoding="utf-8"))

        controller = Controller(stack.MailBox(), hostname="127.0.0.1", port=smtp_port)
        controller.start()
        STEP(f"gunicorn: {args.workers} workers on {base}; huey worker on {REDIS_URL}")
        web = stack.Service(
            "gunicorn",
            [
                stack.PYTHON,
                "-m",
                "gunicorn",
                "kvartplata.wsgi:application",
                "--workers",
                str(args.workers),
                "--bind",
                f"127.0.0.1:{http_port}",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
                "--no-control-socket",
                "--backlog",
                "2048",
            ],
            env,
            workdir,
        )
        services.append(web)
        worker = stack.Service("huey", [stack.PYTHON, "manage.py", "run_huey"], env, workdir)
        services.append(worker)
        stack.wait_http(f"{base}/accounts/login/", web, 60)

        think_min, think_max = (float(x) for x in args.think.split("-"))
        duration = args.duration
        locust_env = dict(env)
        locust_env.update(
            LOAD_FACTS=str(workdir / "facts.json"),
            LOAD_ACKS=str(workdir / "acks"),
            LOAD_THINK_MIN=str(think_min),
            LOAD_THINK_MAX=str(think_max),
            # The staff's work is spread over the run: import, billing, a second import.
            LOAD_IMPORT_AT=str(max(5, duration * 0.1)),
            LOAD_BILLING_AT=str(max(10, duration * 0.3)),
            LOAD_IMPORT2_AT=str(max(15, duration * 0.5)),
            LOAD_STAFF_PASSWORD=stack.STAFF_PASSWORD,
        )
        STEP(f"locust: {args.users} users, {args.rate}/s, {duration} s, think {args.think} s")
        started = datetime.now().strftime("%Y-%m-%d %H:%M")
        sampler.start()
        (workdir / "started.txt").write_text(str(time.time()), encoding="utf-8")
        prefix = workdir / "locust"
        with open(workdir / "locust.log", "wb") as log:
            locust = subprocess.Popen(  # noqa: S603 - fixed argv built here
                [
                    stack.PYTHON,
                    "-m",
                    "locust",
                    "-f",
                    str(LOCUSTFILE),
                    "--headless",
                    "-u",
                    str(args.users),
                    "-r",
                    str(args.rate),
                    "-t",
                    f"{duration}s",
                    "--host",
                    base,
                    "--csv",
                    str(prefix),
                    "--stop-timeout",
                    "20",
                    "--only-summary",
                    "--loglevel",
                    "WARNING",
                ],
                cwd=ROOT,
                env=locust_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                locust.wait(timeout=duration + 120)
            except subprocess.TimeoutExpired:
                os.killpg(locust.pid, signal.SIGTERM)
                locust.wait(timeout=30)
                raise stack.StackError("locust did not stop in time") from None
        sampler.stopping.set()
        stack.check(web.alive(), f"gunicorn died:\n{web.tail()}")
        STEP("locust done; waiting for the queue, then reconciliation")
        stack.run(
            [stack.PYTHON, str(Path(__file__)), "--step", "reconcile", "--workdir", str(workdir)],
            env,
            timeout=900,
        )
        result = json.loads((workdir / "reconcile.json").read_text(encoding="utf-8"))
        stats = read_stats(prefix)
        load = sampler.samples or [os.getloadavg()[0]]
        summary = {
            "started": started,
            "users": args.users,
            "rate": args.rate,
            "duration": duration,
            "think": args.think,
            "accounts": facts["accounts"],
            "workers": args.workers,
            "machine": machine(),
            "load": {
                "min": round(min(load), 1),
                "max": round(max(load), 1),
                "mean": round(sum(load) / len(load), 1),
            },
            "stats": stats,
            "reconciliation": result,
        }
        (workdir / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
        text = markdown(summary)
        (workdir / "summary.md").write_text(text, encoding="utf-8")
        print(text)
        print(json.dumps(result, indent=1, ensure_ascii=False))
        errors = sum(p["failures"] for p in stats["pages"] if p["name"] == "Aggregated")
        print(f"errors: {errors}; reconciliation: {'OK' if result['ok'] else 'FAILED'}")
        if stats["failures"]:
            print("failures:", json.dumps(stats["failures"][:10], ensure_ascii=False, indent=1))
        ok = result["ok"] and errors == 0
    except Exception as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        for service in services:
            print(f"--- {service.name} log (tail) ---\n{service.tail()}", file=sys.stderr)
    finally:
        sampler.stopping.set()
        for service in reversed(services):
            service.stop()
        if controller is not None:
            controller.stop()
        if args.drop:
            stack.psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        print(f"work folder: {workdir}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
