"""Staff pages of payments: registry upload with progress, the queue of unmatched payments."""

import functools

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from kvartplata.lib.money import format_rub
from kvartplata.lib.queue import enqueue_on_commit
from kvartplata.payments.forms import MatchForm, UploadForm
from kvartplata.payments.matching import candidates
from kvartplata.payments.models import Payment, PaymentFile
from kvartplata.payments.services import (
    PaymentError,
    max_file_bytes,
    payment_file_upload,
    payment_match,
    payment_return,
    progress_get,
    size_refusal,
)
from kvartplata.payments.tasks import import_payment_file
from kvartplata.registry.models import Organization, PersonalAccount
from kvartplata.registry.selectors import number_lengths, number_variants
from kvartplata.users.audit import audit

PAGE_SIZE = 50


def permission(code: str):
    """The staff role must hold `code` (matching and returning: the operator's payments)."""

    def decorate(view):
        @functools.wraps(view)
        def checked(request, *args, **kwargs):
            if not request.user.has_perm(code):
                raise PermissionDenied("Недостаточно прав для этого действия.")
            return view(request, *args, **kwargs)

        return checked

    return decorate


def _organization(request) -> Organization:
    """Staff work inside their own organization only."""
    if request.user.organization_id:
        return request.user.organization
    raise Http404("Сотрудник не привязан к организации")


def _office(request, organization, form, status=200):
    files = (
        PaymentFile.objects.filter(bank__organization=organization)
        .select_related("bank", "uploaded_by")
        .order_by("-uploaded_at")[:20]
    )
    unmatched = Payment.objects.filter(
        organization=organization, status=Payment.Status.UNMATCHED
    ).count()
    return render(
        request,
        "payments/office.html",
        {
            "organization": organization,
            "form": form,
            "files": files,
            "unmatched_count": unmatched,
            "max_mb": max_file_bytes() // (1024 * 1024),
        },
        status=status,
    )


@staff_member_required
def office(request):
    organization = _organization(request)
    return _office(request, organization, UploadForm(organization=organization))


@staff_member_required
@require_POST
@permission("payments.add_paymentfile")
def upload(request):
    organization = _organization(request)
    # A huge body is refused by its declared length, before Django reads it into a temp file.
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > max_file_bytes() + 64 * 1024:
        form = UploadForm(organization=organization)
        form.add_error(None, size_refusal(declared))
        return _office(request, organization, form, status=400)
    form = UploadForm(request.POST, request.FILES, organization=organization)
    if form.is_valid():
        upload_file = form.cleaned_data["file"]
        try:
            payment_file = payment_file_upload(
                bank=form.cleaned_data["bank"],
                name=upload_file.name,
                chunks=upload_file.chunks(),
                size=upload_file.size,
                user=request.user,
            )
        except PaymentError as exc:
            form.add_error("file", str(exc))
        else:
            enqueue_on_commit(import_payment_file, payment_file.pk)
            return redirect("payments:file", file_id=payment_file.pk)
    return _office(request, organization, form, status=400)


@staff_member_required
def file_detail(request, file_id: int):
    organization = _organization(request)
    payment_file = get_object_or_404(
        PaymentFile.objects.select_related("bank", "uploaded_by"),
        pk=file_id,
        bank__organization=organization,
    )
    running = payment_file.status in (PaymentFile.Status.QUEUED, PaymentFile.Status.PROCESSING)
    percent = None
    if running:
        progress = progress_get(payment_file.pk) or {}
        if progress.get("total"):
            percent = int(100 * progress["done"] / progress["total"])
    return render(
        request,
        "payments/file.html",
        {
            "organization": organization,
            "file": payment_file,
            "running": running,
            "percent": percent,
            "errors": payment_file.error.splitlines(),
        },
    )


@staff_member_required
def unmatched(request):
    organization = _organization(request)
    query = request.GET.get("q", "").strip()[:100]
    payments = Payment.objects.filter(
        organization=organization, status=Payment.Status.UNMATCHED
    ).select_related("bank", "file")
    if query:
        # SQLite compares only Latin letters without case: try the usual spellings as well.
        variants = {query, query.lower(), query.capitalize(), query.upper(), query.title()}
        condition = Q(account_number__startswith=query)
        for v in variants:
            condition |= Q(payer_name__icontains=v) | Q(address__icontains=v)
        payments = payments.filter(condition)
    page = Paginator(payments.order_by("paid_at", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "payments/unmatched.html",
        {"organization": organization, "page": page, "query": query, "form": MatchForm()},
    )


def _back_to_queue(request):
    query = request.POST.get("q", "")
    target = redirect("payments:unmatched")
    if query:
        target["Location"] += "?" + _urlencode({"q": query})
    return target


def _urlencode(params: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def _find_account(organization, number: str):
    variants = number_variants(number, number_lengths(organization))
    return (
        PersonalAccount.objects.filter(organization=organization, number__in=variants)
        .select_related("premises__building")
        .order_by("number")
        .first()
    )


def _detail(request, organization, payment, *, status=200, error="", reason=""):
    return render(
        request,
        "payments/unmatched_detail.html",
        {
            "organization": organization,
            "payment": payment,
            "candidates": candidates(organization, payment),
            "form": MatchForm(),
            "error": error,
            "reason": reason,
            "query": request.POST.get("q", request.GET.get("q", "")),
        },
        status=status,
    )


@staff_member_required
def unmatched_detail(request, payment_id: int):
    """One unmatched payment: the bank line beside the candidate accounts."""
    organization = _organization(request)
    payment = get_object_or_404(
        Payment.objects.select_related("bank", "file"), pk=payment_id, organization=organization
    )
    return _detail(request, organization, payment)


@staff_member_required
@require_POST
@permission("payments.change_payment")
def match(request, payment_id: int):
    """Match a payment to an account: first the confirmation with both sides, then the match."""
    organization = _organization(request)
    payment = get_object_or_404(
        Payment.objects.select_related("bank"), pk=payment_id, organization=organization
    )
    form = MatchForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["account_number"][0])
        return _back_to_queue(request)
    number = form.cleaned_data["account_number"]
    account = _find_account(organization, number)
    if account is None:
        messages.error(request, f"Лицевой счёт {number} не найден в организации.")
        return _back_to_queue(request)
    if request.POST.get("confirm") != "yes":
        # Whose account is it? Shown beside the bank line before anything is posted.
        return render(
            request,
            "payments/match_confirm.html",
            {
                "organization": organization,
                "payment": payment,
                "account": account,
                "query": request.POST.get("q", ""),
            },
        )
    try:
        payment_match(
            organization=organization, payment_id=payment.pk, account=account, user=request.user
        )
    except PaymentError as exc:
        messages.error(request, str(exc))
    else:
        audit(
            "payment_matched",
            request=request,
            user=request.user,
            payment=payment.pk,
            account=account.number,
            amount=payment.amount,
        )
        messages.success(
            request,
            f"Платёж {format_rub(payment.amount)} зачтён на лицевой счёт {account.number} "
            f"({account.holder_name}).",
        )
    return _back_to_queue(request)


@staff_member_required
@require_POST
@permission("payments.change_payment")
def return_payment(request, payment_id: int):
    """Return a payment to the payer: only with a reason and a confirmation (audit log)."""
    organization = _organization(request)
    payment = get_object_or_404(Payment, pk=payment_id, organization=organization)
    reason = request.POST.get("reason", "").strip()[:500]
    if not reason:
        error = "Укажите причину возврата."
    elif request.POST.get("confirm") != "yes":
        error = "Подтвердите возврат: отметьте флажок."
    else:
        error = ""
    if error:
        return _detail(request, organization, payment, status=400, error=error, reason=reason)
    try:
        payment_return(organization=organization, payment_id=payment.pk, user=request.user)
    except PaymentError as exc:
        messages.error(request, str(exc))
    else:
        audit(
            "payment_returned",
            request=request,
            user=request.user,
            payment=payment.pk,
            amount=payment.amount,
            reason=repr(reason),
        )
        messages.success(request, f"Платёж {format_rub(payment.amount)} отмечен как возвращённый.")
    return _back_to_queue(request)
