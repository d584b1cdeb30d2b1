"""Issuing receipts when a month closes, and mailing them to subscribed residents."""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Max
from django.template.loader import render_to_string
from django.utils import timezone

from kvartplata.billing.models import AccountBalance, Period
from kvartplata.lib.db import bulk_insert
from kvartplata.lib.periods import period_label
from kvartplata.receipts.builder import SnapshotBuilder
from kvartplata.receipts.models import Receipt, ReceiptDelivery
from kvartplata.users.models import AccountLink

log = logging.getLogger("kvartplata.receipts")
BATCH = 1000
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


def receipts_issue(*, period: Period, progress=None) -> int:
    """Freeze one receipt per account of the month, numbered on from the organization's last.

    Called by period_close inside its transaction; accounts that already have a receipt of the
    month keep it (a snapshot never changes).
    """
    organization = period.organization
    issued_at = timezone.now()
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
    transaction.on_commit(lambda: deliveries_schedule(period_id=period.id))
    return count


def deliveries_schedule(*, period_id: int) -> int:
    """Create a delivery per (receipt, subscribed user) once, and queue the sending."""
    from kvartplata.receipts.tasks import send_delivery

    links = AccountLink.objects.filter(
        account__receipts__period_id=period_id,
        user__receipts_by_email=True,
        user__is_active=True,
    ).exclude(user__email="")
    created = []
    for link_user_id, email, receipt_id in links.values_list(
        "user_id", "user__email", "account__receipts__id"
    ):
        delivery, was_created = ReceiptDelivery.objects.get_or_create(
            receipt_id=receipt_id, user_id=link_user_id, defaults={"email": email}
        )
        if was_created:
            created.append(delivery.id)
    for delivery_id in created:
        send_delivery(delivery_id)
    return len(created)


def receipt_pdf(receipt: Receipt) -> tuple[str, bytes]:
    """(file name, PDF bytes) of an issued receipt, rendered from its frozen snapshot."""
    from kvartplata.receipts.pdf import render_receipt

    name = f"kvitanciya-{receipt.account.number}-{receipt.month:%Y-%m}.pdf"
    return name, render_receipt(receipt.data)


def delivery_send(*, delivery_id: int) -> bool:
    """Send one receipt e-mail; never twice (claimed by a conditional UPDATE), retried on error."""
    delivery = ReceiptDelivery.objects.select_related("receipt__account").get(id=delivery_id)
    # Optimistic claim: of two workers holding the same delivery only one moves `attempts` on.
    claimed = ReceiptDelivery.objects.filter(
        id=delivery_id,
        status__in=[ReceiptDelivery.Status.PENDING, ReceiptDelivery.Status.FAILED],
        attempts=delivery.attempts,
    ).update(attempts=F("attempts") + 1)
    if not claimed:
        return delivery.status == ReceiptDelivery.Status.SENT
    receipt = delivery.receipt
    name, pdf = receipt_pdf(receipt)
    context = {
        "receipt": receipt,
        "month": period_label(receipt.month),
        "site_url": settings.SITE_URL,
        "total_due": receipt.total_due,
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
    try:
        message.send()
    except Exception as exc:  # SMTP errors of every kind: keep the reason, retry later
        ReceiptDelivery.objects.filter(id=delivery_id).update(
            status=ReceiptDelivery.Status.FAILED, last_error=str(exc)[:1000]
        )
        log.warning("receipt delivery %s failed: %s", delivery_id, exc)
        return False
    ReceiptDelivery.objects.filter(id=delivery_id).update(
        status=ReceiptDelivery.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


def receipts_render(*, period: Period, out_dir, account_number: str | None = None, progress=None):
    """Write the month's receipts as PDF files for the print shop; returns the file count."""
    from kvartplata.receipts.pdf import render_receipts

    receipts = Receipt.objects.filter(period=period).select_related("account").order_by("number")
    if account_number:
        receipts = receipts.filter(account__number=account_number)
    items = list(receipts.values_list("account__number", "month", "data"))
    count = 0
    for (number, month, _), pdf in zip(items, render_receipts(d for *_, d in items), strict=True):
        (out_dir / f"{month:%Y-%m}-{number}.pdf").write_bytes(pdf)
        count += 1
        if progress:
            progress(count, len(items))
    return count
