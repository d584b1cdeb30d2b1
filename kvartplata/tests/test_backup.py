"""Tests of the backup and restore commands: a restored database holds the same ledger."""

import datetime
import secrets
import shutil
import sqlite3
import urllib.parse
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from kvartplata.billing.models import LedgerEntry
from kvartplata.demo import world as demo_world
from kvartplata.registry.models import Period

pytestmark = pytest.mark.django_db(transaction=True)

BALANCES = (
    "SELECT a.number, b.month, b.closing FROM billing_accountbalance b "
    "JOIN registry_personalaccount a ON a.id = b.account_id ORDER BY a.number, b.month"
)
ENTRIES = "SELECT COUNT(*), SUM(amount) FROM billing_ledgerentry"


def money(value) -> str:
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


def ledger(cursor) -> dict:
    """The ledger as plain values, the same way for SQLite and PostgreSQL cursors."""
    cursor.execute(BALANCES)
    balances = [(number, str(month), money(closing)) for number, month, closing in cursor]
    cursor.execute(ENTRIES)
    count, total = cursor.fetchone()
    return {"balances": balances, "entries": (count, money(total or 0))}


def current_ledger() -> dict:
    with connection.cursor() as cursor:
        return ledger(cursor)


def need_pg_tools() -> None:
    if connection.vendor == "postgresql":
        for tool in ("pg_dump", "pg_restore"):
            if not shutil.which(tool):
                pytest.skip(f"{tool} (PostgreSQL client) is not installed")


def pg_url(name: str) -> str:
    s = connection.settings_dict
    auth = urllib.parse.quote(s["USER"] or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + urllib.parse.quote(s["PASSWORD"], safe="")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def pg_connect(name: str):
    import psycopg

    s = connection.settings_dict
    return psycopg.connect(
        dbname=name,
        host=s["HOST"] or None,
        port=s["PORT"] or None,
        user=s["USER"] or None,
        password=s.get("PASSWORD") or None,
        autocommit=True,
    )


@pytest.fixture
def world():
    return demo_world.build(accounts=20, months=2, today=datetime.date(2026, 11, 25))


@pytest.fixture
def empty_database(tmp_path):
    """(DATABASE_URL, reader of its ledger) of a new, empty database of the current vendor."""
    if connection.vendor == "sqlite":
        path = tmp_path / "restored.sqlite3"

        def read():
            with sqlite3.connect(path) as restored:
                return ledger(restored.cursor())

        yield f"sqlite:///{path}", read
        return
    name = f"kv_stack_restore_{secrets.token_hex(4)}"
    with pg_connect("postgres") as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def read():
        with pg_connect(name) as restored, restored.cursor() as cursor:
            return ledger(cursor)

    try:
        yield pg_url(name), read
    finally:
        with pg_connect("postgres") as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_it_restores_a_backup_into_an_empty_database_with_the_same_ledger(
    world, tmp_path, empty_database
):
    need_pg_tools()
    url, read_restored = empty_database
    before = current_ledger()
    assert len(before["balances"]) >= 20 * 2 and before["entries"][0] > 0
    out = tmp_path / "kvartplata.backup"

    call_command("backup", "--out", str(out))
    call_command("restore", str(out), "--database-url", url, "--noinput")

    assert read_restored() == before


def test_it_restores_the_live_database_after_a_loss(world, tmp_path):
    need_pg_tools()
    before = current_ledger()
    out = tmp_path / "kvartplata.backup"
    call_command("backup", "--out", str(out))
    # Entries of closed months are guarded by the database itself; the open month's are not.
    LedgerEntry.objects.filter(period__state=Period.State.OPEN).delete()
    assert current_ledger()["entries"] != before["entries"]

    call_command("restore", str(out), "--noinput")

    assert current_ledger() == before


def test_it_refuses_to_overwrite_an_existing_file(tmp_path):
    out = tmp_path / "taken.backup"
    out.write_bytes(b"keep me")

    with pytest.raises(CommandError, match="уже существует"):
        call_command("backup", "--out", str(out))

    assert out.read_bytes() == b"keep me"


def test_it_refuses_a_file_that_is_not_a_backup(tmp_path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("не копия", encoding="utf-8")

    with pytest.raises(CommandError, match="не похож на резервную копию"):
        call_command("restore", str(bogus), "--noinput")


def test_it_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="нет"):
        call_command("restore", str(tmp_path / "missing.backup"), "--noinput")


def test_it_refuses_a_backup_of_another_database_vendor(tmp_path):
    other = tmp_path / "other.backup"
    if connection.vendor == "sqlite":
        other.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 64)
        expected = "Копия сделана из базы PostgreSQL, а восстанавливается в SQLite"
    else:
        sqlite3.connect(other).close()
        with sqlite3.connect(other) as db:
            db.execute("CREATE TABLE t (x)")
        expected = "Копия сделана из базы SQLite, а восстанавливается в PostgreSQL"

    with pytest.raises(CommandError, match=expected):
        call_command("restore", str(other), "--noinput")


def test_it_asks_before_replacing_the_data(tmp_path, monkeypatch):
    bogus = tmp_path / "any.backup"
    bogus.write_bytes(b"x")
    monkeypatch.setattr("builtins.input", lambda _prompt: "нет")

    with pytest.raises(CommandError, match="отменено"):
        call_command("restore", str(bogus))
