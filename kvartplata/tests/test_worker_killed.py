"""A real Huey worker killed (SIGKILL) mid-job: leases run out, nothing sticks, nothing is doubled.

Each test starts `manage.py run_huey` on Redis against the test database, holds the job at a
known point in its transaction (a SHARE lock on the balances table, which every run and import
writes last; or an SMTP server that accepts and never answers), kills the worker there, and
shows that the lease expires, the job is marked failed with the reason, can be started again
the way staff do, and that the data are consistent: the ledger invariant holds and nothing was
written twice. PostgreSQL only: the worker process must share the database with the test.
"""

import contextlib
import datetime
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from kvartplata.billing import ledger
from kvartplata.billing.models import AccountBalance, BillingRun, Charge, LedgerEntry
from kvartplata.lib.leases import JOB_PRIORITY
from kvartplata.registry.models import Period

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("FAULT_REDIS_URL", "redis://127.0.0.1:6379/7")
LEASE = 1.0  # seconds: the worker's JOB_LEASE_SECONDS
WAIT = 60  # seconds at most for the worker to reach the point where it is killed


@pytest.fixture
def queue_name():
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: a separate worker process cannot share the in-memory SQLite "
            "test database"
        )
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"needs Redis at {REDIS_URL} for the worker's queue")
    name = f"kv-fault-{uuid.uuid4().hex[:10]}"
    yield name
    for key in client.scan_iter(f"*{name}*"):
        client.delete(key)


class Worker:
    """`manage.py run_huey` on Redis against the test database, killed or stopped at the end."""

    def __init__(self, queue_name: str, **extra_env):
        db = connection.settings_dict
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "DATABASE_", "HUEY_", "EMAIL_"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="kvartplata.settings",
            DEBUG="1",
            DATABASE_URL=f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
            f"/{db['NAME']}",
            REDIS_URL=REDIS_URL,
            HUEY_NAME=queue_name,
            HUEY_WORKERS="2",
            JOB_LEASE_SECONDS=str(LEASE),
            DATA_DIR=str(settings.DATA_DIR),
            MEDIA_ROOT=str(settings.MEDIA_ROOT),
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra_env)
        self.process = subprocess.Popen(  # noqa: S603 - the project's own command
            [sys.executable, "manage.py", "run_huey", "--no-periodic"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def worker(queue_name):
    started = []

    def start(**extra_env) -> Worker:
        started.append(Worker(queue_name, **extra_env))
        return started[-1]

    yield start
    for w in started:
        w.stop()


def enqueue(queue_name: str, task, *args, priority: int = 0) -> None:
    """Put a project task on the worker's Redis queue (the test process's own queue is inline)."""
    from huey import PriorityRedisHuey

    queue = PriorityRedisHuey(queue_name, url=REDIS_URL)
    queue.task(priority=priority)(task.func)(*args)


def _connect():
    import psycopg

    db = connection.settings_dict
    return psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
    )


@contextlib.contextmanager
def writes_held(table: str):
    """Hold every write to `table` (SHARE lock) until the block ends."""
    with _connect() as conn:
        conn.execute(f"LOCK TABLE {table} IN SHARE MODE")
        yield conn
        conn.rollback()


def wait_for(condition, what: str, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"waited {timeout} s for {what}")


def waiting_on(conn, table: str) -> bool:
    """Another session waits for a lock on `table` (the job got that far in its transaction)."""
    row = conn.execute(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE c.relname = %s AND NOT l.granted",
        [table],
    ).fetchone()
    return row[0] > 0


def no_other_sessions() -> bool:
    """The killed worker's sessions are gone (PostgreSQL rolled their transactions back)."""
    with _connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state <> 'idle'"
        ).fetchone()
    return row[0] == 0


def past_lease(model, pk) -> None:
    expires = model.objects.get(pk=pk).lease_expires_at
    assert expires is not None, "the job holds a lease while it works"
    wait_for(lambda: timezone.now() > expires, "the lease to run out", timeout=LEASE * 10)


def assert_ledger_invariant(period: Period) -> None:
    """Balances equal the journal, and every closing is its opening plus the month's movement."""
    balances = list(AccountBalance.objects.filter(period=period))
    assert balances
    sums = ledger.movement(period, [b.account_id for b in balances])
    for b in balances:
        moved = sums.get(b.account_id, {})
        assert b.charges == moved.get("charge", Decimal(0))
        assert b.payments == -moved.get("payment", Decimal(0))
        assert b.penalties == moved.get("penalty", Decimal(0))
        assert b.closing == b.opening + b.charges + b.recalculations + b.penalties - b.payments
        assert b.closing - b.opening == sum(moved.values(), Decimal(0))


def _world(accounts: int = 20):
    from kvartplata.demo.world import build

    return build(accounts=accounts, months=1, today=timezone.localdate())


def test_it_fails_a_billing_run_whose_worker_was_killed_and_bills_once_when_started_again(
    queue_name, worker
):
    from kvartplata.billing.services import billing_run_start, billing_runs_reap
    from kvartplata.billing.tasks import run_billing

    world = _world()
    org = world.organization
    period = Period.objects.get(organization=org, state=Period.State.OPEN)
    run = billing_run_start(organization=org)
    w = worker()
    with writes_held("billing_accountbalance") as conn:
        enqueue(queue_name, run_billing, run.pk, priority=JOB_PRIORITY)
        # The run has computed and written its charges and ledger entries (not committed) and
        # waits to write the balances: kill it there.
        wait_for(lambda: waiting_on(conn, "billing_accountbalance"), "the run to reach balances")
        run.refresh_from_db()
        assert run.status == BillingRun.Status.RUNNING
        assert f":{w.process.pid}:" in run.lease_owner
        w.kill()
    wait_for(no_other_sessions, "the killed worker's sessions to end")
    # Still «running» until its lease runs out: the back office refuses a second run meanwhile.
    assert BillingRun.objects.get(pk=run.pk).status == BillingRun.Status.RUNNING
    past_lease(BillingRun, run.pk)

    assert billing_runs_reap(organization=org) == [run.pk]
    run.refresh_from_db()
    assert run.status == BillingRun.Status.FAILED
    assert "Обработчик начисления остановился" in run.error
    assert (run.lease_owner, run.lease_expires_at) == ("", None)
    period.refresh_from_db()
    assert period.state == Period.State.OPEN  # nothing of the killed run was committed
    assert not Charge.objects.filter(period=period).exists()
    assert not LedgerEntry.objects.filter(period=period, kind="charge").exists()

    # Staff start it again (the back office's button starts a run and queues it): billed once.
    again = billing_run_start(organization=org)
    run_billing(again.pk)
    again.refresh_from_db()
    assert again.status == BillingRun.Status.DONE, again.error
    period.refresh_from_db()
    assert period.state == Period.State.BILLED
    charged = Charge.objects.filter(period=period).aggregate(s=Sum("amount"))["s"]
    posted = LedgerEntry.objects.filter(period=period, kind="charge").aggregate(s=Sum("amount"))
    assert charged > 0
    assert posted["s"] == charged  # every charge line posted once, none twice
    assert_ledger_invariant(period)


def _registry_bytes(accounts, today: datetime.date) -> tuple[bytes, Decimal]:
    when = f"{today:%d.%m.%Y} 10:00:00"
    amounts = [Decimal("100.00") + i for i in range(len(accounts))]
    lines = [
        ";".join(
            [when, f"K{i}", a.number, "Иванов Иван Иванович", "г. Рязань", "", f"{amt}", "0.00"]
        )
        for i, (a, amt) in enumerate(zip(accounts, amounts, strict=True))
    ]
    text = "\n".join(lines) + f"\n={len(lines)};{sum(amounts)}"
    return text.encode("cp1251"), sum(amounts)


def test_it_refuses_a_payment_file_whose_worker_was_killed_and_imports_it_once_again(
    queue_name, worker
):
    from kvartplata.billing.services import billing_run
    from kvartplata.payments.models import Bank, Payment, PaymentFile
    from kvartplata.payments.services import payment_file_upload, payment_files_reap
    from kvartplata.payments.tasks import import_payment_file
    from kvartplata.registry.models import PersonalAccount

    world = _world()
    org = world.organization
    billing_run(organization=org)  # billed: the import then brings balances up to date as well
    bank = Bank.objects.get(organization=org, code="sber")
    accounts = list(PersonalAccount.objects.filter(organization=org).order_by("number")[:3])
    data, total = _registry_bytes(accounts, timezone.localdate())
    first = payment_file_upload(bank=bank, name="reestr.txt", chunks=[data], size=len(data))
    w = worker()
    with writes_held("billing_accountbalance") as conn:
        enqueue(queue_name, import_payment_file, first.pk, priority=JOB_PRIORITY)
        # The payments are written and posted to the journal (not committed); the balances wait.
        wait_for(lambda: waiting_on(conn, "billing_accountbalance"), "the import to post")
        assert PaymentFile.objects.get(pk=first.pk).status == PaymentFile.Status.PROCESSING
        w.kill()
    wait_for(no_other_sessions, "the killed worker's sessions to end")
    past_lease(PaymentFile, first.pk)

    assert payment_files_reap() == [first.pk]
    first.refresh_from_db()
    assert first.status == PaymentFile.Status.REFUSED
    assert "Загрузка прервана: обработчик остановился" in first.error
    assert not Payment.objects.filter(file_id=first.pk).exists()
    before = Payment.objects.count()

    # The operator uploads the file again: imported once, every payment posted once.
    second = payment_file_upload(bank=bank, name="reestr.txt", chunks=[data], size=len(data))
    import_payment_file(second.pk)
    second.refresh_from_db()
    assert second.status == PaymentFile.Status.IMPORTED, second.error
    assert second.lines_imported == 3
    assert Payment.objects.count() == before + 3
    payments = Payment.objects.filter(file_id=second.pk)
    assert payments.aggregate(s=Sum("amount"))["s"] == total
    period = Period.objects.get(organization=org, state=Period.State.BILLED)
    paid = LedgerEntry.objects.filter(
        period=period, kind="payment", source_id__in=payments.values("pk")
    ).aggregate(s=Sum("amount"))
    assert -paid["s"] == total  # posted once
    assert_ledger_invariant(period)


class HangingSmtp:
    """A mail server that accepts connections and never says a word."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.received = b""
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.server.accept()
                self.connections.append(conn)
                threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn):
        with contextlib.suppress(OSError):
            while data := conn.recv(4096):
                self.received += data

    def close(self):
        for conn in self.connections:
            conn.close()
        self.server.close()


@pytest.fixture
def hanging_smtp():
    server = HangingSmtp()
    yield server
    server.close()


def _delivery(world):
    from django.contrib.auth import get_user_model

    from kvartplata.receipts.models import Receipt, ReceiptDelivery

    user = get_user_model().objects.get(username="demo")
    receipt = Receipt.objects.filter(account=world.resident_account).latest("month")
    return ReceiptDelivery.objects.create(receipt=receipt, user=user, email="demo@example.com")


def test_it_fails_a_delivery_whose_worker_was_killed_while_sending_and_sends_it_once_on_retry(
    queue_name, worker, hanging_smtp, mailoutbox
):
    from kvartplata.receipts.models import ReceiptDelivery
    from kvartplata.receipts.services import deliveries_reap, delivery_retry
    from kvartplata.receipts.tasks import send_delivery

    delivery = _delivery(_world())
    w = worker(EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(hanging_smtp.port), EMAIL_TIMEOUT="60")
    enqueue(queue_name, send_delivery, delivery.pk)
    wait_for(lambda: hanging_smtp.connections, "the worker to connect to the mail server")
    delivery.refresh_from_db()
    assert delivery.status == ReceiptDelivery.Status.SENDING
    w.kill()
    past_lease(ReceiptDelivery, delivery.pk)

    assert deliveries_reap() == [delivery.pk]
    delivery.refresh_from_db()
    assert delivery.status == ReceiptDelivery.Status.FAILED
    assert "Отправка прервана: обработчик остановился" in delivery.last_error
    assert b"DATA" not in hanging_smtp.received  # the killed attempt sent nothing

    # Staff retry it («повторить»): sent once, on its second attempt.
    delivery_retry(delivery=delivery)
    send_delivery(delivery.id)  # what the staff page queues
    delivery.refresh_from_db()
    assert delivery.status == ReceiptDelivery.Status.SENT
    assert delivery.attempts == 2
    assert [m.to for m in mailoutbox] == [["demo@example.com"]]


def test_it_imports_a_payment_file_while_the_mail_server_hangs(queue_name, worker, hanging_smtp):
    """One worker thread, mail queued first, SMTP silent: the import waits one EMAIL_TIMEOUT."""
    from kvartplata.payments.models import Bank, PaymentFile
    from kvartplata.payments.services import payment_file_upload
    from kvartplata.payments.tasks import import_payment_file
    from kvartplata.receipts.models import ReceiptDelivery
    from kvartplata.receipts.tasks import send_delivery
    from kvartplata.registry.models import PersonalAccount

    world = _world()
    first = _delivery(world)
    others = [
        ReceiptDelivery.objects.create(receipt=first.receipt, user=None, email=f"n{i}@example.ru")
        for i in range(6)
    ]
    org = world.organization
    bank = Bank.objects.get(organization=org, code="sber")
    accounts = list(PersonalAccount.objects.filter(organization=org).order_by("number")[:2])
    data, _ = _registry_bytes(accounts, timezone.localdate())
    upload = payment_file_upload(bank=bank, name="reestr.txt", chunks=[data], size=len(data))
    timeout = 2
    worker(
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(hanging_smtp.port),
        EMAIL_TIMEOUT=str(timeout),
        HUEY_WORKERS="1",
    )
    for d in [first, *others]:
        enqueue(queue_name, send_delivery, d.pk)
    wait_for(lambda: hanging_smtp.connections, "the worker to connect to the mail server")
    started = time.monotonic()
    enqueue(queue_name, import_payment_file, upload.pk, priority=JOB_PRIORITY)
    wait_for(
        lambda: PaymentFile.objects.get(pk=upload.pk).status == PaymentFile.Status.IMPORTED,
        "the import",
    )
    waited = time.monotonic() - started
    # The hanging delivery gave up after EMAIL_TIMEOUT; the import went before the queued mail
    # (in queue order it would have waited for seven timeouts, 14 s).
    assert waited < timeout + 4
    statuses = dict(ReceiptDelivery.objects.values_list("pk", "status"))
    assert statuses[first.pk] == ReceiptDelivery.Status.FAILED
    assert ReceiptDelivery.objects.get(pk=first.pk).last_error
    assert any(statuses[d.pk] == ReceiptDelivery.Status.PENDING for d in others)


def test_it_refuses_a_readings_file_whose_worker_was_killed_and_loads_it_once_again(
    queue_name, worker
):
    from kvartplata.meters.imports import readings_file_upload, readings_files_reap
    from kvartplata.meters.models import Meter, Reading, ReadingsFile
    from kvartplata.meters.tasks import import_readings_file

    world = _world()
    org = world.organization
    month = timezone.localdate().replace(day=1)
    meters = list(Meter.objects.filter(account__organization=org, zones=1).order_by("pk")[:5])
    lines = ["account;serial_number;month;value1"]
    for m in meters:
        last = Reading.objects.filter(meter=m, is_accepted=True).order_by("-month").first()
        value = ((last.value1 if last else m.initial_value1) + 1).quantize(
            Decimal(1).scaleb(-m.precision)
        )
        lines.append(f"{m.account.number};{m.serial_number};{month:%Y-%m};{value}")
    content = ("\n".join(lines) + "\n").encode()
    before = Reading.objects.count()
    first = readings_file_upload(organization=org, name="r.csv", content=content)
    w = worker()
    with writes_held("meters_reading") as conn:
        enqueue(queue_name, import_readings_file, first.pk, priority=JOB_PRIORITY)
        # Every line checked, the meters locked; the readings wait to be written.
        wait_for(lambda: waiting_on(conn, "meters_reading"), "the import to write")
        assert ReadingsFile.objects.get(pk=first.pk).status == ReadingsFile.Status.PROCESSING
        w.kill()
    wait_for(no_other_sessions, "the killed worker's sessions to end")
    past_lease(ReadingsFile, first.pk)

    assert readings_files_reap() == [first.pk]
    first.refresh_from_db()
    assert first.status == ReadingsFile.Status.REFUSED
    assert "Загрузка прервана: обработчик остановился" in first.error
    assert Reading.objects.count() == before

    again = readings_file_upload(organization=org, name="r.csv", content=content)
    import_readings_file(again.pk)
    again.refresh_from_db()
    assert again.status == ReadingsFile.Status.DONE, again.error
    assert again.lines_accepted == len(meters)
    assert Reading.objects.count() == before + len(meters)
    accepted = Reading.objects.filter(meter__in=meters, month=month, is_accepted=True)
    assert accepted.count() == len(meters)  # one accepted reading per meter: nothing twice
