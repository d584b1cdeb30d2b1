"""Backup and restore of the whole database: pg_dump/pg_restore, or SQLite's online backup API."""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import dj_database_url
from django.db import connections

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
# pg_dump and pg_restore of a large database take a while; this only stops a hung tool.
PG_TOOL_TIMEOUT = 6 * 3600


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is for the operator, in Russian."""


def database_settings(url: str | None = None) -> dict:
    """The connection settings of DATABASE_URL-style `url`, or of Django's default database."""
    if url:
        return dj_database_url.parse(url)
    return dict(connections["default"].settings_dict)


def vendor_of(database: dict) -> str:
    engine = database.get("ENGINE", "")
    if engine.endswith("sqlite3"):
        return "sqlite"
    if "postgresql" in engine:
        return "postgresql"
    raise BackupError(f"Резервное копирование базы {engine or '(не указана)'} не поддерживается.")


def backup_kind(path: Path) -> str:
    """«sqlite» or «postgresql» by the file's first bytes; anything else is refused."""
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"Не удалось прочитать файл {path}: {exc.strerror or exc}.") from exc
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_CUSTOM_MAGIC):
        return "postgresql"
    raise BackupError(
        f"Файл {path} не похож на резервную копию: ожидается файл SQLite или архив pg_dump -Fc."
    )


def database_backup(*, out: Path, database: dict | None = None) -> Path:
    """Write a consistent copy of the database to `out` (which must not exist yet)."""
    out = Path(out)
    if out.exists():
        raise BackupError(f"Файл {out} уже существует: укажите другое имя.")
    if not out.parent.is_dir():
        raise BackupError(f"Папки {out.parent} нет.")
    database = database or database_settings()
    # Written beside the target and renamed at the end: a half-written file never looks whole.
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if vendor_of(database) == "sqlite":
            _sqlite_copy(source=database, target=partial)
        else:
            _pg_tool(
                "pg_dump",
                ["--format=custom", "--compress=6", f"--file={partial}"],
                database,
            )
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return out


def database_restore(*, source: Path, database: dict | None = None) -> None:
    """Replace the database's content by the backup `source` (tables not in it are kept)."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"Файла {source} нет.")
    database = database or database_settings()
    vendor, kind = vendor_of(database), backup_kind(source)
    if vendor != kind:
        names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
        raise BackupError(
            f"Копия сделана из базы {names[kind]}, а восстанавливается в {names[vendor]}: "
            "перенос между СУБД этой командой не делается."
        )
    if vendor == "sqlite":
        _sqlite_copy(source={"NAME": str(source)}, target=database)
        return
    # Open connections of this process would hold locks against the DROPs of --clean.
    connections.close_all()
    _pg_tool(
        "pg_restore",
        [
            "--clean",
            "--if-exists",
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={database['NAME']}",
            str(source),
        ],
        database,
    )


# --- SQLite ------------------------------------------------------------------------------------


def _is_default(database: dict) -> bool:
    current = connections["default"].settings_dict
    return current.get("ENGINE") == database.get("ENGINE") and str(current.get("NAME")) == str(
        database.get("NAME")
    )


def _sqlite_connect(database: dict | Path) -> tuple[sqlite3.Connection, bool]:
    """(connection, whether we opened it): Django's own for its default database.

    Using Django's connection for the default database also covers the in-memory test
    database, which no second connection could reach.
    """
    if isinstance(database, dict) and database.get("ENGINE") and _is_default(database):
        connection = connections["default"]
        connection.ensure_connection()
        return connection.connection, False
    name = str(database["NAME"] if isinstance(database, dict) else database)
    return sqlite3.connect(name, uri=name.startswith("file:"), timeout=30), True


def _sqlite_copy(*, source: dict | Path, target: dict | Path) -> None:
    """Copy page by page with the online backup API: readers and writers may go on meanwhile."""
    src, close_src = _sqlite_connect(source)
    try:
        dst, close_dst = _sqlite_connect(target)
        try:
            src.backup(dst, pages=1024)
        except sqlite3.Error as exc:
            raise BackupError(f"Копирование SQLite не удалось: {exc}.") from exc
        finally:
            if close_dst:
                dst.close()
    finally:
        if close_src:
            src.close()


# --- PostgreSQL --------------------------------------------------------------------------------


def _pg_env(database: dict) -> dict[str, str]:
    """Connection through libpq's variables: the password never appears in a process list."""
    env = dict(os.environ)
    for key, variable in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
    ):
        value = database.get(key)
        if value:
            env[variable] = str(value)
    env["PGDATABASE"] = str(database["NAME"])
    sslmode = (database.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = sslmode
    return env


def _pg_tool(tool: str, args: list[str], database: dict) -> None:
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(f"Программа {tool} не найдена: установите клиент PostgreSQL.")
    result = subprocess.run(  # noqa: S603 - fixed tool, arguments built here
        [executable, *args],
        env=_pg_env(database),
        capture_output=True,
        text=True,
        timeout=PG_TOOL_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(
            f"{tool} завершился с ошибкой {result.returncode}: {result.stderr.strip()}"
        )
