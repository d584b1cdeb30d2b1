"""Benchmark: server time and throughput of the account card, charges and payments pages.

Beside a trivial Django view served the same way in the same run (gunicorn, sync workers), under
N concurrent clients (16 by default). Server time is gunicorn's own request time (%(D)s in its
access log); throughput is requests per second seen by the clients.

Cold pages, as a resident meets them: every request is for a **different** account (one signed-in
resident per account, linked to it alone), right after a billing run of the organization (the
run's charges are in; nothing was shown since). One more row measures a repeated view answered
with 304 Not Modified (``If-None-Match`` with the page's ``ETag``).

Every worker is warmed first by concurrent requests on accounts that are not measured, so that
none imports the site while a page is measured. The trivial view is measured first and again
last, three times as many requests each; the floor is the mean of the two. Beside each row,
the CPU spent per request by the workers, the database and the clients (this process) says
where the two cores went. ``--runs 3`` repeats the whole measurement (each run after its own
billing run, in a new server) and prints the median: the speed of a shared machine drifts.

Build (once) and run, on the database of your choice::

    DATABASE_URL=postgres://…/kvartplata_bench .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://…/kvartplata_bench .venv/bin/python manage.py demo --accounts 100000
    DATABASE_URL=postgres://…/kvartplata_bench .venv/bin/python bench/pages.py --reuse

Without DATABASE_URL it builds a small world in a SQLite file under /tmp (``--accounts``,
``--months``) and reuses it on the next run with ``--reuse``.
"""

import argparse
import http.client
import itertools
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from machine_info import machine  # noqa: E402 - bench/ is the script's own folder

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


SESSION_SCRIPT = """
from django.contrib.auth import get_user_model
from django.test import Client
from kvartplata.registry.models import PersonalAccount
from kvartplata.users.models import AccountLink
User = get_user_model()
accounts = list(PersonalAccount.objects.order_by("id").values_list("id", flat=True)[:{n}])
for i, account_id in enumerate(accounts):
    user, made = User.objects.get_or_create(
        username=f"bench-resident-{{i}}", defaults={{"email": f"bench-{{i}}@example.ru"}}
    )
    if made:
        user.set_unusable_password()
        user.save()
    AccountLink.objects.get_or_create(user=user, account_id=account_id)
    client = Client()
    client.force_login(user)
    print("SESSION", client.cookies["sessionid"].value, account_id)
print("ACCOUNTS", PersonalAccount.objects.count())
"""

RUN_SCRIPT = """
from kvartplata.registry.models import Period
from kvartplata.billing.services import billing_run
from kvartplata.registry.models import Organization
for organization in Organization.objects.all():
    if Period.objects.filter(organization=organization, state__in=["open", "billed"]).exists():
        billing_run(organization=organization)
print("RUN done")
"""


def sessions(env: dict, n: int) -> tuple[list[tuple[str, int]], int]:
    """Signed-in sessions of `n` residents, each linked to an account of their own."""
    out = manage(env, "shell", "-c", SESSION_SCRIPT.format(n=n))
    found = [(m[1], int(m[2])) for m in re.finditer(r"SESSION (\S+) (\d+)", out)]
    total = re.search(r"ACCOUNTS (\d+)", out)
    if not found or not total:
        sys.exit(f"could not sign the residents in:\n{out}")
    return found, int(total[1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(env: dict, port: int, workers: int, log: Path) -> subprocess.Popen:
    server_env = dict(env, DJANGO_SETTINGS_MODULE="pages_site", PYTHONPATH=f"{BENCH}:{ROOT}")
    proc = subprocess.Popen(
        [
            GUNICORN,
            "kvartplata.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--access-logfile",
            str(log),
            "--access-logformat",
            "%(U)s %(s)s %(D)s",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=server_env,
        start_new_session=True,
    )
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    sys.exit("gunicorn did not start")


def fetch(port: int, path: str, cookie: str, etag: str = "") -> tuple[int, str, str]:
    """(status, ETag, CSRF cookie set) of a GET; `cookie` is a session id or a Cookie header."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    cookies = cookie if "=" in cookie else f"sessionid={cookie}"
    headers = {"Cookie": cookies, "Host": "127.0.0.1"}
    if etag:
        headers["If-None-Match"] = etag
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    csrf = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie") or "")
    return response.status, response.getheader("ETag") or "", csrf[1] if csrf else ""


def load(port: int, targets: list, clients: int, requests: int) -> tuple[float, list]:
    """`requests` GETs spread over `clients` threads, each for the next target in turn.

    A target is (path, cookie, etag, expected status). Returns (requests/s, client latencies).
    """
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    per_client = max(1, requests // clients)
    turn = itertools.count()

    def worker():
        mine = []
        for _ in range(per_client):
            with lock:
                path, cookie, etag, expected = targets[next(turn) % len(targets)]
            t = time.perf_counter()
            status, _tag, _csrf = fetch(port, path, cookie, etag)
            mine.append(time.perf_counter() - t)
            if status != expected:
                errors.append(status)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    if errors:
        sys.exit(f"{targets[0][0]}: {len(errors)} answers were not as expected (first {errors[0]})")
    return len(latencies) / wall, latencies


def _process_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pids(*args: str) -> list[int]:
    found = subprocess.run(["pgrep", *args], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found]


def cpu_seconds(master: int) -> tuple[float, float, float]:
    """CPU seconds so far of the gunicorn workers, of the PostgreSQL processes (0 on SQLite) and
    of this process (the clients): where the cores go. Every PostgreSQL process of the machine
    counts (run nothing else beside); a backend that exits meanwhile drops out of the sum, but
    the workers keep their connections open for the whole measurement."""
    workers = sum(_process_seconds(pid) for pid in _pids("-P", str(master)))
    database = sum(_process_seconds(pid) for pid in _pids("-x", "postgres"))
    return workers, database, time.process_time()


def server_times(log: Path, pattern: str, status: str) -> list[float]:
    """Request times in ms of the paths matching `pattern` from gunicorn's access log."""
    times = []
    for line in log.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and re.fullmatch(pattern, parts[0]) and parts[1] == status:
            times.append(int(parts[2]) / 1000)
    return times


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--reuse", action="store_true", help="use the database as it is")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=800, help="per page")
    parser.add_argument(
        "--no-run", action="store_true", help="measure without a billing run just before"
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="runs one after another (each after its own billing"
        " run), then the median of each page's figure",
    )
    args = parser.parse_args()

    env = dict(
        os.environ,
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        LOG_LEVEL="WARNING",
    )
    env.setdefault("SECRET_KEY", "bench-" + "not-a-secret-" * 4)
    if not env.get("DATABASE_URL"):
        db = Path(tempfile.gettempdir()) / "kvartplata-bench" / "pages.sqlite3"
        db.parent.mkdir(parents=True, exist_ok=True)
        env["DATABASE_URL"] = f"sqlite:///{db}"
        env.setdefault("DATA_DIR", str(db.parent))
        if not args.reuse and db.exists():
            db.unlink()
    database = env["DATABASE_URL"].split("@")[-1]
    if not args.reuse:
        print(f"building the world: {args.accounts} accounts, {args.months} months …", flush=True)
        t = time.perf_counter()
        manage(env, "migrate", "--noinput")
        manage(env, "demo", "--accounts", str(args.accounts), "--months", str(args.months))
        print(f"  built in {time.perf_counter() - t:.0f} s", flush=True)
    residents, accounts = sessions(env, args.requests + 20)
    ratios: dict[str, list[float]] = {}
    for number in range(1, args.runs + 1):
        if args.runs > 1:
            print(f"\n--- run {number} of {args.runs}", flush=True)
        results, load_before = measure(env, args, residents)
        print()
        print(f"machine: {machine()}")
        print(
            f"database: {database}; world: {accounts} accounts; gunicorn sync workers: "
            f"{args.workers}; clients: {args.clients}; requests per page: {args.requests}, "
            f"each for another account; billing run just before: "
            f"{'no' if args.no_run else 'yes'}"
        )
        print(f"load average before / after: {load_before} / {_loadavg()}")
        for name, ratio in report(results).items():
            ratios.setdefault(name, []).append(ratio)
    if args.runs > 1:
        print(f"\n× trivial, median of {args.runs} runs (each run's figure in brackets):")
        for name, values in ratios.items():
            shown = " / ".join(f"{v:.2f}" for v in values)
            print(f"{name:14} {statistics.median(values):5.2f}   ({shown})")


def measure(env: dict, args, residents: list) -> tuple[list, str]:
    """One run: a billing run (unless --no-run), then every page under load, in a new server."""
    if not args.no_run:
        t = time.perf_counter()
        manage(env, "shell", "-c", RUN_SCRIPT)
        print(f"billing run before measuring: {time.perf_counter() - t:.0f} s", flush=True)
    cookie, account_id = residents[0]

    def each(pattern: str) -> list:
        return [(pattern.format(a), c, "", 200) for c, a in residents[20:]]

    trivial = ("trivial view", [("/bench/trivial/", cookie, "", 200)], r"/bench/trivial/", "200")
    pages = [
        trivial,
        ("account card", each("/accounts/{}/"), r"/accounts/\d+/", "200"),
        ("charges", each("/accounts/{}/charges/"), r"/accounts/\d+/charges/", "200"),
        ("payments", each("/accounts/{}/payments/"), r"/accounts/\d+/payments/", "200"),
    ]
    port = free_port()
    load_before = _loadavg()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "access.log"
        gunicorn = start_gunicorn(env, port, args.workers, log)
        try:
            # Warm every worker (its imports, templates, connection and prepared statements) on
            # accounts that are not measured: concurrent requests, so that each worker gets some;
            # sequential ones may all go to one worker, and another would then import the site
            # while a page is measured.
            warm = [
                (path, c, "", 200)
                for c, a in residents[:20]
                for path in (
                    f"/accounts/{a}/",
                    f"/accounts/{a}/charges/",
                    f"/accounts/{a}/payments/",
                    "/bench/trivial/",
                )
            ]
            load(port, warm, args.clients, 40 * args.workers * len(warm) // 20)
            charges = f"/accounts/{account_id}/charges/"
            # A browser that kept the page: it sends its CSRF cookie back, and the page's tag.
            _status, tag, csrf = fetch(port, charges, cookie)
            kept = f"sessionid={cookie}; csrftoken={csrf}"
            pages.append(
                ("charges (304)", [(charges, kept, tag, 304)], r"/accounts/\d+/charges/", "304")
            )
            results = []
            # The trivial view first and again last, three times as many requests each (it is
            # served three times as fast): the floor is their mean.
            for name, targets, pattern, status in [*pages, trivial]:
                log.write_text("")
                count = args.requests * (3 if name == trivial[0] else 1)
                before = cpu_seconds(gunicorn.pid)
                rps, client = load(port, targets, args.clients, count)
                spent = [b - a for a, b in zip(before, cpu_seconds(gunicorn.pid), strict=True)]
                time.sleep(0.3)  # let the workers flush their access-log lines
                server = server_times(log, pattern, status) or [0.0]
                cpu = [1000 * seconds / len(client) for seconds in spent]
                results.append((name, rps, server, client, cpu))
        finally:
            # The server was started in its own process group: stop exactly that group.
            os.killpg(gunicorn.pid, signal.SIGTERM)
            gunicorn.wait(timeout=30)
    return results, load_before


def report(results: list) -> dict[str, float]:
    """Print one run's table; return each page's throughput as a multiple of the floor."""
    print(
        f"{'page':14} {'req/s':>8} {'× trivial':>9} {'server p50':>10} {'server p99':>10} "
        f"{'client p50':>10} {'client p99':>10}   CPU ms per request: workers / database / "
        "clients"
    )
    base = (results[0][1] + results[-1][1]) / 2
    print(f"trivial view first / last: {results[0][1]:.0f} / {results[-1][1]:.0f} req/s")
    ratios = {}
    for name, rps, server, client, cpu in results[:-1]:
        print(
            f"{name:14} {rps:8.0f} {rps / base:9.2f} {statistics.median(server):8.1f}ms "
            f"{pct(server, 99):8.1f}ms {statistics.median(client) * 1000:8.1f}ms "
            f"{pct(client, 99) * 1000:8.1f}ms   {cpu[0]:.2f} / {cpu[1]:.2f} / {cpu[2]:.2f}"
        )
        ratios[name] = rps / base
    return ratios


if __name__ == "__main__":
    main()
