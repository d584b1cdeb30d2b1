"""Back office of receipts: a month's PDFs as a ZIP for the print shop, the mailing's progress."""

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.db.models import Count, F, Sum
from django.db.models.functions import Round
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from kvartplata.lib.db import from_kopecks
from kvartplata.lib.money import format_rub
from kvartplata.lib.periods import period_label
from kvartplata.lib.queue import enqueue_on_commit
from kvartplata.receipts.models import Receipt, ReceiptDelivery
from kvartplata.receipts.services import (
    ReceiptError,
    deliveries_failed,
    delivery_retry,
    print_archive_path,
    print_archive_start,
    print_archive_state,
)
from kvartplata.receipts.tasks import build_print_archive, send_delivery
from kvartplata.registry.models import Organization, Period

# The staff roles (permission groups, backoffice.services): whoever has receipts in their role
# sees them; who closes the month and issues its receipts (the accountant) builds their print
# archive and retries the month's mailing; one delivery is retried by the accountant or the
# operator (who also sends a receipt again from the account desk).
VIEW = "receipts.view_receipt"
ISSUE = "registry.change_period"
RESEND = "receipts.change_receiptdelivery"
MONTHS_SHOWN = 24
FAILURES_SHOWN = 200
Status = ReceiptDelivery.Status


def _organization(request) -> Organization:
    """Staff work inside their own organization only."""
    if request.user.organization_id:
        return request.user.organization
    raise Http404("Сотрудник не привязан к организации")


def _period(request, period_id: int) -> Period:
    return get_object_or_404(
        Period, pk=period_id, organization=_organization(request), state=Period.State.CLOSED
    )


def _percent(done: int, total: int) -> int | None:
    return int(done * 100 / total) if total else None


def _mailing(counts: dict[str, int]) -> dict:
    total = sum(counts.values())
    finished = counts.get(Status.SENT, 0) + counts.get(Status.FAILED, 0)
    return {
        "total": total,
        "sent": counts.get(Status.SENT, 0),
        "failed": counts.get(Status.FAILED, 0),
        "waiting": counts.get(Status.PENDING, 0) + counts.get(Status.SENDING, 0),
        "percent": _percent(finished, total),
    }


def _print(period: Period) -> dict:
    state = print_archive_state(period) or {}
    path = print_archive_path(period)
    return {
        "state": state.get("state", ""),
        "done": state.get("done", 0),
        "total": state.get("total", 0),
        "error": state.get("error", ""),
        "percent": _percent(state.get("done", 0), state.get("total", 0)),
        "running": state.get("state") in ("queued", "running"),
        "ready": path.exists(),
        "size_mb": round(path.stat().st_size / 1024 / 1024, 1) if path.exists() else None,
    }


@staff_member_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def office(request):
    organization = _organization(request)
    periods = list(
        Period.objects.filter(organization=organization, state=Period.State.CLOSED).order_by(
            "-month"
        )[:MONTHS_SHOWN]
    )
    ids = [p.id for p in periods]
    issued = {
        row["period_id"]: row
        for row in Receipt.objects.filter(period_id__in=ids)
        .values("period_id")
        .annotate(count=Count("id"))
    }
    mail: dict[int, dict[str, int]] = {}
    for row in (
        ReceiptDelivery.objects.filter(receipt__period_id__in=ids)
        .values("receipt__period_id", "status")
        .annotate(n=Count("id"))
    ):
        mail.setdefault(row["receipt__period_id"], {})[row["status"]] = row["n"]
    rows = [
        {
            "period": p,
            "label": period_label(p.month),
            "count": issued.get(p.id, {}).get("count", 0),
            "mailing": _mailing(mail.get(p.id, {})),
            "print": _print(p),
        }
        for p in periods
    ]
    return render(request, "receipts/office.html", {"organization": organization, "rows": rows})


@staff_member_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def period_detail(request, period_id: int):
    period = _period(request, period_id)
    counts = dict(
        ReceiptDelivery.objects.filter(receipt__period=period)
        .values_list("status")
        .annotate(n=Count("id"))
    )
    mailing = _mailing(counts)
    failures = list(
        ReceiptDelivery.objects.filter(receipt__period=period, status=Status.FAILED)
        .select_related("receipt__account")
        .order_by("receipt__number", "id")[:FAILURES_SHOWN]
    )
    # Summed in kopecks: SQLite adds decimals as binary floats.
    issued = Receipt.objects.filter(period=period).aggregate(
        count=Count("id"), due=Sum(Round(F("total_due") * 100))
    )
    printing = _print(period)
    return render(
        request,
        "receipts/office_period.html",
        {
            "organization": period.organization,
            "period": period,
            "label": period_label(period.month),
            "count": issued["count"],
            "due": format_rub(from_kopecks(issued["due"])) if issued["due"] is not None else "—",
            "mailing": mailing,
            "failures": failures,
            "print": printing,
            # The page refreshes itself (no script) while something is still in progress.
            "refresh": printing["running"] or mailing["waiting"] > 0,
        },
    )


@staff_member_required
@permission_required(ISSUE, raise_exception=True)
@require_POST
def print_start(request, period_id: int):
    period = _period(request, period_id)
    try:
        print_archive_start(period=period)
    except ReceiptError as exc:
        messages.error(request, str(exc))
    else:
        enqueue_on_commit(build_print_archive, period.id)
        messages.success(request, f"Архив квитанций за {period_label(period.month)} формируется.")
    return redirect("receipts_office:period", period_id=period.id)


@staff_member_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def print_download(request, period_id: int):
    period = _period(request, period_id)
    path = print_archive_path(period)
    if not path.exists():
        raise Http404("Архив ещё не сформирован")
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=path.name,
        content_type="application/zip",
    )
    response["Cache-Control"] = "no-store"
    return response


@staff_member_required
@permission_required(RESEND, raise_exception=True)
@require_POST
def delivery_retry_view(request, delivery_id: int):
    delivery = get_object_or_404(
        ReceiptDelivery.objects.select_related("receipt"),
        pk=delivery_id,
        receipt__organization=_organization(request),
    )
    try:
        delivery_retry(delivery=delivery)
    except ReceiptError as exc:
        messages.error(request, str(exc))
    else:
        enqueue_on_commit(send_delivery, delivery.id)
        messages.success(request, f"Письмо на {delivery.email} поставлено в очередь повторно.")
    return redirect("receipts_office:period", period_id=delivery.receipt.period_id)


@staff_member_required
@permission_required(ISSUE, raise_exception=True)
@require_POST
def retry_failed(request, period_id: int):
    period = _period(request, period_id)
    failed = deliveries_failed(period=period)
    for delivery_id in failed:
        enqueue_on_commit(send_delivery, delivery_id)
    count = len(failed)
    if count:
        messages.success(request, f"Повторная отправка поставлена в очередь: писем {count}.")
    else:
        messages.info(request, "Неудавшихся отправок нет.")
    return redirect("receipts_office:period", period_id=period.id)
