"""Payments workflows: upload and import of a bank's registry, manual matching and return."""

import hashlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from kvartplata.billing import ledger
from kvartplata.billing.services import current_period
from kvartplata.lib import leases
from kvartplata.payments import bulk, posting
from kvartplata.payments.models import Bank, Payment, PaymentFile
from kvartplata.payments.parsing import (
    Layout,
    RegistryError,
    Summary,
    check_totals,
    money_text,
    read_blocks,
)
from kvartplata.registry.models import Organization, Period, PersonalAccount
from kvartplata.registry.periods import organization_bounds

log = logging.getLogger("kvartplata.payments")

DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024
BATCH = 50_000  # lines per block at most (a block is also at most a few MB of the file)
PROGRESS_KEY = "payments-file-progress-{}"


class PaymentError(Exception):
    """A request the payments workflows refuse; the message is for people (Russian)."""


def max_file_bytes() -> int:
    return int(getattr(settings, "PAYMENTS_MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES))


def size_refusal(size: int) -> str | None:
    """The reason to refuse a file of this size without reading it, or None."""
    limit = max_file_bytes()
    if size > limit:
        return (
            f"Файл слишком большой: {size / 1024 / 1024:.1f} МБ, допускается не больше "
            f"{limit / 1024 / 1024:.0f} МБ. Разделите реестр на несколько файлов."
        )
    if size == 0:
        return "Файл пустой: в нём нет ни одной строки."
    return None


def stored_path(payment_file: PaymentFile) -> Path:
    """Where an uploaded registry is kept (the original bytes, for the record)."""
    return Path(settings.MEDIA_ROOT) / "payments" / f"{payment_file.pk}.txt"


def layout_of(bank: Bank) -> Layout:
    return Layout(
        columns=dict(bank.columns or {}),
        encoding=bank.encoding,
        delimiter=bank.delimiter,
        date_format=bank.date_format,
        footer_prefix=bank.footer_prefix,
        header_lines=bank.header_lines,
        timezone=settings.TIME_ZONE,
        bounds=organization_bounds(bank.organization, today=timezone.localdate()),
    )


# --- progress ---------------------------------------------------------------------------------


def _progress_store():
    from huey.contrib.djhuey import HUEY

    return HUEY


def progress_set(file_id: int, **values) -> None:
    """Progress lives in the task queue's store: the import's own transaction hides the row."""
    try:
        _progress_store().put(PROGRESS_KEY.format(file_id), values)
    except Exception:  # progress is a courtesy; never fail an import because of it
        log.warning("Could not store progress of payment file %s", file_id, exc_info=True)


def progress_clear(file_id: int) -> None:
    try:
        _progress_store().get(PROGRESS_KEY.format(file_id))  # reading without peek removes it
    except Exception:
        log.warning("Could not clear progress of payment file %s", file_id, exc_info=True)


def progress_get(file_id: int) -> dict | None:
    try:
        return _progress_store().get(PROGRESS_KEY.format(file_id), peek=True)
    except Exception:
        return None


# --- upload -----------------------------------------------------------------------------------


def payment_file_upload(*, bank: Bank, name: str, chunks, size: int, user=None) -> PaymentFile:
    """Keep an uploaded registry (the caller queues its import); a too large file is refused."""
    reason = size_refusal(size)
    if reason:
        raise PaymentError(reason)
    with transaction.atomic():
        payment_file = PaymentFile.objects.create(
            bank=bank, name=name[:255], sha256="", size=size, uploaded_by=user
        )
        path = stored_path(payment_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with open(path, "wb") as out:
            for chunk in chunks:
                digest.update(chunk)
                out.write(chunk)
        payment_file.sha256 = digest.hexdigest()
        payment_file.save(update_fields=["sha256"])
    return payment_file


# --- import -----------------------------------------------------------------------------------


class _Hashing:
    """A binary stream that hashes and counts what is read through it."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.digest = hashlib.sha256()
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.digest.update(data)
        self.read_bytes += len(data)
        return data


def payment_file_import(
    *,
    payment_file_id: int,
    path: str | os.PathLike | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PaymentFile:
    """Import a queued registry file whole or not at all; each natural key is counted once.

    `progress(bytes_done, bytes_total)` is called after every batch. A refused file keeps the
    reason (and the line errors) in `error`; nothing of it is written anywhere else.
    """
    owner = leases.worker_id()
    claimed = leases.claim(
        PaymentFile,
        payment_file_id,
        owner=owner,
        filters=Q(status=PaymentFile.Status.QUEUED),
        status=PaymentFile.Status.PROCESSING,
    )
    payment_file = PaymentFile.objects.select_related("bank__organization").get(pk=payment_file_id)
    if not claimed:
        return payment_file  # another worker has it, or it is done
    path = Path(path) if path is not None else stored_path(payment_file)
    started = time.monotonic()
    try:
        size = path.stat().st_size
        reason = size_refusal(size)
        if reason:
            raise RegistryError(reason)
        with (
            leases.Heartbeat(PaymentFile, payment_file_id, owner=owner) as heartbeat,
            open(path, "rb") as raw,
            transaction.atomic(),
        ):
            stream = _Hashing(raw)
            outcome = _import_stream(payment_file, stream, size, progress)
            # The commit only while this worker holds the file: a file taken over (its lease
            # ran out) is never written twice.
            heartbeat.stop()
            if not leases.hold(PaymentFile, payment_file_id, owner=owner):
                raise PaymentError("Загрузка прервана: файл передан другому обработчику.")
        outcome["sha256"] = stream.digest.hexdigest()
        outcome["status"] = PaymentFile.Status.IMPORTED
        outcome["error"] = ""
    except RegistryError as exc:
        outcome = {"status": PaymentFile.Status.REFUSED, "error": exc.report()}
    except PaymentError as exc:
        outcome = {"status": PaymentFile.Status.REFUSED, "error": str(exc)}
    except FileNotFoundError:
        outcome = {"status": PaymentFile.Status.REFUSED, "error": "Файл реестра не найден."}
    except Exception:
        log.exception("Import of payment file %s failed", payment_file_id)
        outcome = {
            "status": PaymentFile.Status.REFUSED,
            "error": "Внутренняя ошибка при загрузке: ничего не загружено, попробуйте ещё раз "
            "или сообщите администратору.",
        }
    outcome["finished_at"] = timezone.now()
    if outcome["status"] == PaymentFile.Status.IMPORTED:
        log.info(
            "Payment file %s imported: %s lines in %.1f s",
            payment_file_id,
            outcome.get("lines_total"),
            time.monotonic() - started,
        )
    leases.release(PaymentFile, payment_file_id, owner=owner, **outcome)
    progress_clear(payment_file_id)
    payment_file.refresh_from_db()
    return payment_file


STALE_FILE_REASON = (
    "Загрузка прервана: обработчик остановился (аренда задачи истекла {at}), ничего не "
    "загружено. Загрузите файл снова."
)


LOST_FILE_REASON = (
    "Файл не взят из очереди задач (задача потеряна), ничего не загружено. Загрузите файл снова."
)


def payment_files_reap(*, now=None) -> list[int]:
    """Refuse files whose import worker died (lease expired), with the reason; returns their ids.

    The import writes in one transaction, so a dead worker's file left nothing behind; the
    operator uploads it again (each payment is still counted once).
    """
    now = now or timezone.now()
    reaped = leases.fail_expired(
        PaymentFile,
        now=now,
        filters=Q(status=PaymentFile.Status.PROCESSING),
        status=PaymentFile.Status.REFUSED,
        finished_at=now,
        error=STALE_FILE_REASON.format(at=timezone.localtime(now).strftime("%d.%m.%Y %H:%M")),
    )
    for file_id in reaped:
        progress_clear(file_id)
        log.warning("payment file %s: its import worker stopped; refused", file_id)
    lost = leases.lost_in_queue(
        PaymentFile,
        created_field="uploaded_at",
        filters=Q(status=PaymentFile.Status.QUEUED),
        now=now,
        status=PaymentFile.Status.REFUSED,
        finished_at=now,
        error=LOST_FILE_REASON,
    )
    for file_id in lost:
        log.warning("payment file %s: never taken from the queue; refused", file_id)
    return reaped + lost


def _last_payment_id() -> int:
    """Every payment the import adds gets a greater id (the identity only grows)."""
    found = Payment.objects.order_by("-pk").values_list("pk", flat=True).first()
    return found or 0


_DONE = object()


class _Blocks:
    """Parse the file in a thread of its own, a block ahead of the database.

    The parser (Python) and the database work at the same time; at most two prepared blocks
    wait in between, so memory stays bounded by a few blocks whatever the file's size. Only for
    PostgreSQL: its COPY waits on the server in long stretches without the GIL, while SQLite's
    executemany takes the GIL back for every row and would queue behind the parser.
    """

    def __init__(self, stream, layout: Layout, summary: Summary, writer: "bulk.Writer"):
        self.threaded = connection.vendor == "postgresql"
        self.args = (stream, layout, summary, writer)
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.stopped = threading.Event()
        self.thread = threading.Thread(
            target=self._run, args=(stream, layout, summary, writer), daemon=True
        )

    def _put(self, item) -> bool:
        while not self.stopped.is_set():
            try:
                self.queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, stream, layout, summary, writer) -> None:
        try:
            for block in read_blocks(stream, layout, summary=summary, block_lines=BATCH):
                if not self._put((writer.prepare(block), stream.read_bytes)):
                    return
            self._put(_DONE)
        except BaseException as exc:  # handed over to the importing thread
            self._put(exc)

    def __iter__(self):
        if not self.threaded:
            stream, layout, summary, writer = self.args
            for block in read_blocks(stream, layout, summary=summary, block_lines=BATCH):
                yield writer.prepare(block), stream.read_bytes
            return
        self.thread.start()
        try:
            while True:
                item = self.queue.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.stopped.set()
            self.thread.join()


def _import_stream(payment_file: PaymentFile, stream, size: int, progress) -> dict:
    bank = payment_file.bank
    organization = bank.organization
    layout = layout_of(bank)
    summary = Summary()
    clock = time.monotonic()
    phases: dict[str, float] = {}
    with transaction.atomic():
        bulk.tune_session()
        period = _locked_period(organization)
        after_id = _last_payment_id()
        writer = bulk.Writer.for_connection(
            organization_id=organization.pk,
            bank_id=bank.pk,
            file_id=payment_file.pk,
            accounts=bulk.Accounts(organization.pk, period.pk),
        )
        for prepared, done in _Blocks(stream, layout, summary, writer):
            if not summary.error_count:  # a refused file: parse on only to list every bad line
                writer.write(prepared)
            done = min(done, size)
            progress_set(payment_file.pk, done=done, total=size, lines=summary.lines)
            if progress:
                progress(done, size)
        check_totals(summary, layout)
        writer.close()
        phases["read and write"], clock = time.monotonic() - clock, time.monotonic()
        posting.post_imported(period, file_id=payment_file.pk, after_id=after_id, phases=phases)
        clock = time.monotonic()
    phases["commit"] = time.monotonic() - clock
    log.info(
        "Payment file %s: %s",
        payment_file.pk,
        ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()),
    )
    if progress:
        progress(size, size)
    return {
        "lines_total": summary.lines,
        "lines_imported": writer.inserted,
        "lines_duplicate": summary.lines - writer.inserted,
        "lines_unmatched": writer.unmatched,
        "amount_total": Decimal(money_text(summary.amount_kopecks)),
    }


def _locked_period(organization: Organization) -> Period:
    """The booking period, locked so that it cannot be closed under a posting (PostgreSQL)."""
    period = current_period(organization)
    if period is None:
        raise PaymentError(
            "Нет открытого расчётного периода: откройте период, чтобы принять платежи."
        )
    period = Period.objects.select_for_update().get(pk=period.pk)
    if period.state == Period.State.CLOSED:
        raise PaymentError("Период закрылся во время загрузки: загрузите файл ещё раз.")
    return period


# --- matching by hand -------------------------------------------------------------------------


def payment_match(
    *, organization: Organization, payment_id: int, account: PersonalAccount, user=None
) -> Payment:
    """Staff name the account of an unmatched payment; it is posted to the ledger then, once."""
    if account.organization_id != organization.pk:
        raise PaymentError("Лицевой счёт принадлежит другой организации.")
    with transaction.atomic():
        period = _locked_period(organization)
        now = timezone.now()
        claimed = Payment.objects.filter(
            pk=payment_id, organization=organization, status=Payment.Status.UNMATCHED
        ).update(
            status=Payment.Status.MATCHED,
            account=account,
            period=period,
            matched_by=user,
            matched_at=now,
        )
        if not claimed:
            raise PaymentError("Платёж уже сопоставлен или возвращён другим сотрудником.")
        payment = Payment.objects.get(pk=payment_id)
        ledger.post_payments(
            period,
            [
                {
                    "id": payment.pk,
                    "account_id": account.pk,
                    "amount": payment.amount,
                    "paid_on": timezone.localtime(payment.paid_at).date(),
                    "for_month": payment.for_month,
                    "provider_id": payment.provider_id,  # the payee named, if any
                }
            ],
        )
        if period.state == Period.State.BILLED:
            ledger.refresh_balances(period, [account.pk])
    return payment


def payment_return(*, organization: Organization, payment_id: int, user=None) -> Payment:
    """Mark an unmatched payment as returned to the payer; it never reaches the ledger."""
    with transaction.atomic():
        claimed = Payment.objects.filter(
            pk=payment_id, organization=organization, status=Payment.Status.UNMATCHED
        ).update(status=Payment.Status.RETURNED, matched_by=user, matched_at=timezone.now())
        if not claimed:
            raise PaymentError("Платёж уже сопоставлен или возвращён другим сотрудником.")
        return Payment.objects.get(pk=payment_id)
