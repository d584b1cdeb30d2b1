"""Issuing receipts when a month closes, and mailing them to subscribed residents."""

import logging
import os
import re
import time
import zipfile
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, Max, Q
from django.template.loader import render_to_string
from django.utils import timezone

from kvartplata.billing.bill_change import Explanation, explanation
from kvartplata.billing.models import AccountBalance
from kvartplata.lib import leases
from kvartplata.lib.db import bulk_insert
from kvartplata.lib.periods import period_label
from kvartplata.receipts.builder import SnapshotBuilder
from kvartplata.receipts.models import Receipt, ReceiptDelivery
from kvartplata.registry.models import Period
from kvartplata.users.models import AccountLink

log = logging.getLogger("kvartplata.receipts")
BATCH = 1000
PRINT_KEY = "receipts-print-{}"
# A build still queued after this long was lost by the queue and may be started again; a running
# build holds a lease (JOB_LEASE_SECONDS, renewed as it goes) and is taken for dead when it ends.
PRINT_STALE_SECONDS = 30 * 60
PRINT_DEAD_REASON = "обработчик остановился (аренда задачи истекла {at}). Сформируйте архив снова."


class ReceiptError(Exception):
    """A request about receipts that is refused; the message is for people (Russian)."""


COLUMNS = [
    "organization_id",
    "account_id",
    "period_id",
    "month",
    "number",
    "issued_at",
    "total_due",
    "data",
]


def receipts_issue(*, period: Period, progress=None, issued_at=None) -> int:
    """Freeze one receipt per account of the month, numbered on from the organization's last.

    Called by the month closing (backoffice.closing) inside its transaction; accounts that
    already have a receipt of the month keep it (a snapshot never changes).
    """
    organization = period.organization
    issued_at = issued_at or timezone.now()
    done = set(Receipt.objects.filter(period=period).values_list("account_id", flat=True))
    account_ids = [
        a
        for a in AccountBalance.objects.filter(period=period)
        .order_by("account_id")
        .values_list("account_id", flat=True)
        if a not in done
    ]
    last = Receipt.objects.filter(organization=organization).aggregate(m=Max("number"))["m"] or 0
    builder = SnapshotBuilder(period)
    count = 0
    for start in range(0, len(account_ids), BATCH):
        batch = account_ids[start : start + BATCH]
        numbers = {a: last + start + i + 1 for i, a in enumerate(batch)}
        snapshots = builder.build(batch, numbers, issued_at)
        rows = [
            (
                organization.id,
                account_id,
                period.id,
                period.month,
                snap["number"],
                issued_at,
                snap["totals"]["total_due"],
                snap,
            )
            for account_id, snap in snapshots.items()
        ]
        count += bulk_insert("receipts_receipt", COLUMNS, rows, json_columns=["data"])
        if progress:
            progress(start + len(batch), len(account_ids))
    return count


def deliveries_schedule(*, period_id: int) -> list[int]:
    """Create a delivery per (receipt, subscribed user) once; returns the new deliveries' ids.

    The caller queues their sending (`receipts.tasks.deliveries_queue`).

    Runs after the close commits, possibly twice: a pair that already has a delivery is left
    alone, so a receipt reaches a user at most once.
    """
    links = AccountLink.objects.filter(
        account__receipts__period_id=period_id,
        user__receipts_by_email=True,
        user__is_active=True,
    ).exclude(user__email="")
    wanted = {
        (receipt_id, user_id): email
        for user_id, email, receipt_id in links.values_list(
            "user_id", "user__email", "account__receipts__id"
        )
    }
    existing = set(
        ReceiptDelivery.objects.filter(receipt__period_id=period_id).values_list(
            "receipt_id", "user_id"
        )
    )
    new = [key for key in wanted if key not in existing]
    for start in range(0, len(new), BATCH):
        ReceiptDelivery.objects.bulk_create(
            [
                ReceiptDelivery(receipt_id=r, user_id=u, email=wanted[(r, u)])
                for r, u in new[start : start + BATCH]
            ],
            ignore_conflicts=True,  # a concurrent scheduler created it first: theirs stands
        )
    new_keys = set(new)
    created = [
        delivery_id
        for delivery_id, receipt_id, user_id in ReceiptDelivery.objects.filter(
            receipt__period_id=period_id, status=ReceiptDelivery.Status.PENDING, attempts=0
        ).values_list("id", "receipt_id", "user_id")
        if (receipt_id, user_id) in new_keys
    ]
    return created


def receipt_file_name(receipt: Receipt) -> str:
    """The download name of a receipt's PDF."""
    return f"kvitanciya-{_safe(receipt.account.number)}-{receipt.month:%Y-%m}.pdf"


def receipt_pdf(receipt: Receipt) -> tuple[str, bytes]:
    """(file name, PDF bytes) of an issued receipt, rendered from its frozen snapshot."""
    from kvartplata.receipts.pdf import render_receipt

    return receipt_file_name(receipt), render_receipt(receipt.data)


def _error_text(exc: Exception) -> str:
    text = str(exc).strip()
    return (f"{type(exc).__name__}: {text}" if text else type(exc).__name__)[:1000]


def _bill_change(receipt: Receipt) -> Explanation | None:
    """Why the sum differs from the previous issued month's (the e-mail's short block): as the
    receipt froze it, else (a receipt frozen before the whole explanation) computed."""
    periods = list(Period.objects.filter(organization_id=receipt.period.organization_id))
    periods.sort(key=lambda p: p.month)
    return explanation(
        receipt.account_id, periods, receipt.period, frozen=receipt.data.get("change")
    )


def delivery_send(*, delivery_id: int) -> bool:
    """Send one receipt e-mail, never twice; False when this attempt failed (then retried).

    The delivery is claimed by a conditional UPDATE to «sending» (committed before the message
    goes out), so of several workers holding the same delivery only one sends it; a delivery
    already sent or being sent by another worker is left alone.
    """
    owner = leases.worker_id()
    claimed = leases.claim(
        ReceiptDelivery,
        delivery_id,
        owner=owner,
        filters=Q(status__in=[ReceiptDelivery.Status.PENDING, ReceiptDelivery.Status.FAILED]),
        status=ReceiptDelivery.Status.SENDING,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return True
    try:
        delivery = ReceiptDelivery.objects.select_related(
            "receipt__account", "receipt__period"
        ).get(id=delivery_id)
        receipt = delivery.receipt
        name, pdf = receipt_pdf(receipt)
        context = {
            "receipt": receipt,
            "month": period_label(receipt.month),
            "site_url": settings.SITE_URL,
            "total_due": receipt.total_due,
            "bill_change": _bill_change(receipt),
        }
        subject = render_to_string("receipts/email/receipt_subject.txt", context).strip()
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("receipts/email/receipt.txt", context),
            to=[delivery.email],
        )
        message.attach_alternative(
            render_to_string("receipts/email/receipt.html", context), "text/html"
        )
        message.attach(name, pdf, "application/pdf")
        # The lease is renewed while the server talks (EMAIL_TIMEOUT bounds each exchange).
        with leases.Heartbeat(ReceiptDelivery, delivery_id, owner=owner):
            message.send()
    except Exception as exc:  # SMTP errors of every kind: keep the reason, retry later
        leases.release(
            ReceiptDelivery,
            delivery_id,
            owner=owner,
            status=ReceiptDelivery.Status.FAILED,
            last_error=_error_text(exc),
        )
        log.warning("receipt delivery %s failed: %s", delivery_id, exc)
        return False
    leases.release(
        ReceiptDelivery,
        delivery_id,
        owner=owner,
        status=ReceiptDelivery.Status.SENT,
        sent_at=timezone.now(),
        last_error="",
    )
    return True


STALE_DELIVERY_REASON = (
    "Отправка прервана: обработчик остановился (аренда задачи истекла {at}); письмо могло не "
    "уйти. Повторите отправку."
)


def deliveries_reap(*, now=None) -> list[int]:
    """Mark deliveries whose worker died while sending failed, with the reason.

    They are not sent again by themselves: the message may have left before the worker died,
    and a receipt must not reach a resident twice unasked. Staff retry them («повторить»).
    """
    now = now or timezone.now()
    reaped = leases.fail_expired(
        ReceiptDelivery,
        now=now,
        filters=Q(status=ReceiptDelivery.Status.SENDING),
        status=ReceiptDelivery.Status.FAILED,
        last_error=STALE_DELIVERY_REASON.format(
            at=timezone.localtime(now).strftime("%d.%m.%Y %H:%M")
        ),
    )
    for delivery_id in reaped:
        log.warning("receipt delivery %s: its worker stopped while sending; failed", delivery_id)
    return reaped


def delivery_retry(*, delivery: ReceiptDelivery) -> None:
    """Check that a delivery may be sent once more (the back office's «повторить»).

    The caller queues it: `enqueue_on_commit(send_delivery, delivery.id)`.
    """
    if delivery.status != ReceiptDelivery.Status.FAILED:
        raise ReceiptError("Повторить можно только неудавшуюся отправку.")


def delivery_resend(*, receipt: Receipt, user) -> ReceiptDelivery:
    """Send an issued receipt once more to a resident whose login is linked to its account (the
    account desk's «отправить снова»), whatever became of the earlier deliveries.

    The user's delivery of the receipt is made pending again by one conditional UPDATE (or
    created); the caller queues it (`enqueue_on_commit(send_delivery, delivery.id)`) and
    `delivery_send` claims it with its lease, so one request sends one message. A delivery
    already waiting or being sent is not queued twice (ReceiptError).
    """
    email = (user.email or "").strip()
    if not user.is_active or not email:
        raise ReceiptError("У жителя нет адреса электронной почты: отправить некуда.")
    if not AccountLink.objects.filter(account_id=receipt.account_id, user=user).exists():
        raise ReceiptError("Этот житель не подключил лицевой счёт квитанции.")
    delivery, created = ReceiptDelivery.objects.get_or_create(
        receipt=receipt, user=user, defaults={"email": email}
    )
    if created:
        return delivery
    again = ReceiptDelivery.objects.filter(
        pk=delivery.pk, status__in=[ReceiptDelivery.Status.SENT, ReceiptDelivery.Status.FAILED]
    ).update(status=ReceiptDelivery.Status.PENDING, email=email, last_error="", sent_at=None)
    if not again:
        raise ReceiptError("Письмо с этой квитанцией уже в очереди на отправку.")
    delivery.refresh_from_db()
    return delivery


def deliveries_failed(*, period: Period) -> list[int]:
    """The month's failed deliveries, for the caller to queue once more."""
    return list(
        ReceiptDelivery.objects.filter(
            receipt__period=period, status=ReceiptDelivery.Status.FAILED
        ).values_list("id", flat=True)
    )


# --- files for the print shop ------------------------------------------------------------------

_UNSAFE = re.compile(r"[^0-9A-Za-z_-]+")


def _safe(value: str) -> str:
    """A file-name-safe form of an account number (never a path separator)."""
    return _UNSAFE.sub("_", value).strip("_") or "_"


def _period_pdfs(
    period: Period, account_number: str | None = None
) -> Iterator[tuple[int, int, str, bytes]]:
    """(done, total, file name, PDF) of the month's receipts in number order, streamed."""
    from kvartplata.receipts.pdf import fonts, render_receipt

    fonts()
    for done, total, name, data in _period_snapshots(period, account_number):
        yield done, total, name, render_receipt(data)


def _period_snapshots(
    period: Period, account_number: str | None = None
) -> Iterator[tuple[int, int, str, dict]]:
    """(done, total, file name, snapshot) of the month's receipts in number order, streamed."""
    receipts = Receipt.objects.filter(period=period).order_by("number")
    if account_number:
        receipts = receipts.filter(account__number=account_number)
    total = receipts.count()
    rows = receipts.values_list("account__number", "month", "data").iterator(chunk_size=200)
    for done, (number, month, data) in enumerate(rows, 1):
        yield done, total, f"{month:%Y-%m}-{_safe(number)}.pdf", data


RENDER_CHUNK = 40  # receipts per task sent to a worker process


def _render_chunk(job: tuple[str, list[tuple[str, dict]]]) -> int:
    """In a worker process: render a chunk of snapshots and write their files."""
    from kvartplata.receipts.pdf import render_receipt

    out_dir, items = job
    for name, data in items:
        (Path(out_dir) / name).write_bytes(render_receipt(data))
    return len(items)


def receipts_render(
    *,
    period: Period,
    out_dir: Path,
    account_number: str | None = None,
    progress=None,
    jobs: int = 1,
) -> int:
    """Write the month's receipts as PDF files for the print shop; returns the file count.

    ``jobs`` > 1 renders in that many worker processes (forked after the fonts are loaded, so
    they share them); this process reads the snapshots from the database and hands them out in
    chunks, and the workers write the files. The workers never touch the database.
    """
    if jobs <= 1:
        count = 0
        for done, total, name, pdf in _period_pdfs(period, account_number):
            (Path(out_dir) / name).write_bytes(pdf)
            count = done
            if progress:
                progress(done, total)
        return count
    import multiprocessing

    from kvartplata.receipts.pdf import fonts

    fonts()
    # Forked before the first query of the month's receipts: the children inherit the fonts,
    # never use the parent's database connection, and leave with os._exit (nothing is closed).
    context = multiprocessing.get_context("fork")
    count = 0
    with context.Pool(jobs) as pool:
        # The database is read here, in this thread (a Django connection belongs to its thread);
        # at most two chunks per worker wait, so memory stays flat on a large month.
        pending: deque = deque()
        batch: list[tuple[str, dict]] = []
        total = 0

        def collect(limit: int) -> None:
            nonlocal count
            while len(pending) > limit:
                count += pending.popleft().get()
                if progress:
                    progress(count, total)

        for _done, of, name, data in _period_snapshots(period, account_number):
            total = of
            batch.append((name, data))
            if len(batch) == RENDER_CHUNK:
                pending.append(pool.apply_async(_render_chunk, ((str(out_dir), batch),)))
                batch = []
                collect(2 * jobs)
        if batch:
            pending.append(pool.apply_async(_render_chunk, ((str(out_dir), batch),)))
        collect(0)
    return count


def print_archive_path(period: Period) -> Path:
    """Where the ZIP of a month's receipts for the print shop is kept (not a public folder)."""
    base = getattr(settings, "RECEIPTS_PRINT_DIR", None)
    base = Path(base) if base else Path(settings.DATA_DIR) / "receipts-print"
    return base / str(period.organization_id) / f"kvitancii-{period.month:%Y-%m}.zip"


def _store():
    from huey.contrib.djhuey import HUEY

    return HUEY


def print_archive_state(period: Period, *, now: float | None = None) -> dict | None:
    """The state of the month's ZIP build: {state, done, total, error, at, until} or None.

    A running build whose lease (`until`) ran out, or a build queued for longer than
    PRINT_STALE_SECONDS, is reported failed with the reason: its worker died, start it again.
    """
    try:
        state = _store().get(PRINT_KEY.format(period.id), peek=True)
    except Exception:  # the state is a courtesy; a page must not fail because of it
        log.warning("could not read print archive state of %s", period.id, exc_info=True)
        return None
    now = time.time() if now is None else now
    if state and state.get("state") == "running" and state.get("until", now) < now:
        at = timezone.localtime(datetime.fromtimestamp(state["until"], tz=UTC))
        state = {
            **state,
            "state": "failed",
            "error": PRINT_DEAD_REASON.format(at=at.strftime("%d.%m.%Y %H:%M")),
        }
    elif (
        state and state.get("state") == "queued" and now - state.get("at", 0) >= PRINT_STALE_SECONDS
    ):
        reason = "задача не взята очередью; сформируйте архив снова."
        state = {**state, "state": "failed", "error": reason}
    return state


def _print_state_set(period_id: int, **values) -> None:
    moment = time.time()
    extra = {"at": moment}
    if values.get("state") == "running":
        extra["until"] = moment + leases.lease_seconds()
    try:
        _store().put(PRINT_KEY.format(period_id), {**values, **extra})
    except Exception:
        log.warning("could not store print archive state of %s", period_id, exc_info=True)


def print_archive_start(*, period: Period) -> None:
    """Mark the ZIP of a closed month's receipts for the print shop as queued.

    The caller queues its build: `enqueue_on_commit(build_print_archive, period.id)`.
    """
    label = period_label(period.month)
    if not period.is_closed:
        raise ReceiptError(f"Период «{label}» ещё не закрыт: квитанции не выпущены.")
    state = print_archive_state(period)
    if state and state.get("state") in ("queued", "running"):
        raise ReceiptError(f"Архив квитанций за {label} уже формируется.")
    total = Receipt.objects.filter(period=period).count()
    if not total:
        raise ReceiptError(f"За {label} квитанций нет.")
    _print_state_set(period.id, state="queued", done=0, total=total, error="")


def print_archive_build(*, period_id: int) -> int:
    """Render the month's receipts into one ZIP of PDFs, reporting progress; returns the count.

    The archive is written beside its final name and moved into place when complete, so a
    download never gets half a file.
    """
    period = Period.objects.get(id=period_id)
    path = print_archive_path(period)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A part file of this build's own: a build taken for dead that still runs cannot mix in.
    part = path.with_name(f"{path.name}.{os.getpid()}-{time.monotonic_ns()}.part")
    done = total = 0
    _print_state_set(period_id, state="running", done=0, total=0, error="")
    renewed = time.monotonic()
    # PDFs are compressed already: stored, with a fixed time stamp for repeatable bytes.
    stamp = (period.month.year, period.month.month, 1, 0, 0, 0)
    try:
        with zipfile.ZipFile(part, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            for done, total, name, pdf in _period_pdfs(period):
                archive.writestr(zipfile.ZipInfo(name, stamp), pdf)
                # Progress every 1 %, and the lease renewed at least every third of it.
                if (
                    done == 1
                    or done % max(1, total // 100) == 0
                    or time.monotonic() - renewed >= leases.lease_seconds() / 3
                ):
                    renewed = time.monotonic()
                    _print_state_set(period_id, state="running", done=done, total=total, error="")
        os.replace(part, path)
    except Exception as exc:
        part.unlink(missing_ok=True)
        _print_state_set(period_id, state="failed", done=done, total=total, error=_error_text(exc))
        log.exception("print archive of period %s failed", period_id)
        raise
    _print_state_set(period_id, state="done", done=done, total=total, error="")
    return done
