"""Benchmark: server time and throughput of the account card, charges and payments pages.

Beside a trivial Django view served the same way in the same run (gunicorn, sync workers), under
N concurrent clients (16 by default). Server time is gunicorn's own request time (%(D)s in its
access log); throughput is requests per second seen by the clients.

Build (once) and run, on the database of your choice::

    DATABASE_URL=postgres://…/kvartplata_bench .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://…/kvartplata_bench .venv/bin/python manage.py demo --accounts 100000
    DATABASE_URL=postgres://…/kvartplata_bench .venv/bin/python bench/pages.py --reuse

Without DATABASE_URL it builds a small world in a SQLite file under /tmp (``--accounts``,
``--months``) and reuses it on the next run with ``--reuse``.
"""

import argparse
import http.client
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
from kvartplata.users.models import AccountLink
user = get_user_model().objects.get(username="demo")
client = Client()
client.force_login(user)
link = AccountLink.objects.filter(user=user).order_by("id").first()
from kvartplata.registry.models import PersonalAccount
print("SESSION", client.cookies["sessionid"].value, link.account_id,
      PersonalAccount.objects.count())
"""


def session_for_demo(env: dict) -> tuple[str, int, int]:
    """A signed-in session of the demo resident, stored in the database the server uses."""
    out = manage(env, "shell", "-c", SESSION_SCRIPT)
    match = re.search(r"SESSION (\S+) (\d+) (\d+)", out)
    if not match:
        sys.exit(f"could not sign the demo resident in:\n{out}")
    return match[1], int(match[2]), int(match[3])


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


def fetch(port: int, path: str, cookie: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Cookie": f"sessionid={cookie}", "Host": "127.0.0.1"})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status


def load(port: int, path: str, cookie: str, clients: int, requests: int) -> tuple[float, list]:
    """`requests` GETs spread over `clients` threads; returns (requests/s, client latencies)."""
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    per_client = max(1, requests // clients)

    def worker():
        mine = []
        for _ in range(per_client):
            t = time.perf_counter()
            status = fetch(port, path, cookie)
            mine.append(time.perf_counter() - t)
            if status != 200:
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
        sys.exit(f"{path}: {len(errors)} answers were not 200 (first {errors[0]})")
    return len(latencies) / wall, latencies


def server_times(log: Path, path: str) -> list[float]:
    """Request times in ms of one path from gunicorn's access log."""
    times = []
    for line in log.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == path.split("?")[0] and parts[1] == "200":
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
        "--no-page-cache",
        action="store_true",
        help="build every page from scratch (the cabinet's page cache off): the cold path",
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
    if args.no_page_cache:
        env["CABINET_PAGE_CACHE_SECONDS"] = "0"
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
    cookie, account_id, accounts = session_for_demo(env)

    pages = [
        ("trivial view", "/bench/trivial/"),
        ("account card", f"/accounts/{account_id}/"),
        ("charges", f"/accounts/{account_id}/charges/"),
        ("payments", f"/accounts/{account_id}/payments/"),
    ]
    port = free_port()
    load_before = _loadavg()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "access.log"
        gunicorn = start_gunicorn(env, port, args.workers, log)
        try:
            results = []
            for name, path in pages:
                for _ in range(20):  # warm every worker: imports, connections, caches
                    fetch(port, path, cookie)
                log.write_text("")
                rps, client = load(port, path, cookie, args.clients, args.requests)
                time.sleep(0.3)  # let the workers flush their access-log lines
                server = server_times(log, path) or [0.0]
                results.append((name, path, rps, server, client))
        finally:
            # The server was started in its own process group: stop exactly that group.
            os.killpg(gunicorn.pid, signal.SIGTERM)
            gunicorn.wait(timeout=30)
    print()
    print(f"machine: {machine()}")
    print(
        f"database: {database}; world: {accounts} accounts; gunicorn sync workers: "
        f"{args.workers}; clients: {args.clients}; requests per page: {args.requests}; "
        f"page cache: {'off' if args.no_page_cache else 'on'}"
    )
    print(f"load average before / after: {load_before} / {_loadavg()}")
    print(
        f"{'page':14} {'req/s':>8} {'× trivial':>9} {'server p50':>10} {'server p99':>10} "
        f"{'client p50':>10} {'client p99':>10}"
    )
    base = results[0][2]
    for name, _path, rps, server, client in results:
        print(
            f"{name:14} {rps:8.0f} {rps / base:9.2f} {statistics.median(server):8.1f}ms "
            f"{pct(server, 99):8.1f}ms {statistics.median(client) * 1000:8.1f}ms "
            f"{pct(client, 99) * 1000:8.1f}ms"
        )


if __name__ == "__main__":
    main()
